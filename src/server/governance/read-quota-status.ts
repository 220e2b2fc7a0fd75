import type { Executor } from "@/server/db/connection";
import {
  countBuildsSince,
  countRunningRevisions,
  findOperatorQuota,
  sumUsageSince,
} from "@/server/db/queries/quotas";
import {
  effectiveLimits,
  type QuotaLimits,
  type QuotaOverrides,
  type QuotaUsage,
  startOfUtcDay,
  startOfUtcMonth,
} from "./quota-limits";

export type QuotaStatus = { limits: QuotaLimits; usage: QuotaUsage; overrides: QuotaOverrides | undefined };

/** The operator's limits in force (their overrides over the platform defaults) and what they used. */
export async function readQuotaStatus(
  db: Executor,
  defaults: QuotaLimits,
  userId: string,
  now: number,
): Promise<QuotaStatus> {
  const [overrides, buildsToday, runningNow, month] = await Promise.all([
    findOperatorQuota(db, userId),
    countBuildsSince(db, userId, startOfUtcDay(now)),
    countRunningRevisions(db, userId),
    sumUsageSince(db, userId, startOfUtcMonth(now)),
  ]);
  return {
    limits: effectiveLimits(defaults, overrides),
    overrides,
    usage: { buildsToday, runningNow, tokensThisMonth: month.tokens, usdMicrosThisMonth: month.usdMicros },
  };
}
