import type { Executor } from "@/server/db/connection";
import {
  countBuildsSince,
  countRunningRevisions,
  findOperatorQuota,
  lockOperatorRow,
  sumUsageSince,
} from "@/server/db/queries/quotas";
import { AppError } from "@/server/errors";
import {
  buildQuotaRefusal,
  effectiveLimits,
  type QuotaLimits,
  type QuotaUsage,
  startOfUtcDay,
  startOfUtcMonth,
} from "./quota-limits";

/**
 * Refuses a new build (project, follow-up, restore, task) with 429 `quota_exceeded` naming the limit and when it
 * resets. Call it inside the transaction that inserts the revision: it takes the operator's row lock first, so two
 * concurrent creates of one operator are checked one after the other and cannot both slip under a limit.
 */
export async function assertWithinQuota(
  db: Executor,
  defaults: QuotaLimits,
  userId: string,
  now: number,
): Promise<void> {
  await lockOperatorRow(db, userId);
  // Sequential reads: inside a transaction the executor is one connection.
  const overrides = await findOperatorQuota(db, userId);
  const limits = effectiveLimits(defaults, overrides);
  if (Object.values(limits).every((limit) => limit === null)) return;
  const usage: QuotaUsage = {
    buildsToday: limits.buildsPerDay === null ? 0 : await countBuildsSince(db, userId, startOfUtcDay(now)),
    runningNow: limits.concurrentRuns === null ? 0 : await countRunningRevisions(db, userId),
    tokensThisMonth: 0,
    usdMicrosThisMonth: 0,
  };
  if (limits.tokensPerMonth !== null || limits.usdPerMonthMicros !== null) {
    const month = await sumUsageSince(db, userId, startOfUtcMonth(now));
    usage.tokensThisMonth = month.tokens;
    usage.usdMicrosThisMonth = month.usdMicros;
  }
  const refusal = buildQuotaRefusal(limits, usage, now);
  if (refusal) throw new AppError("quota_exceeded", refusal);
}
