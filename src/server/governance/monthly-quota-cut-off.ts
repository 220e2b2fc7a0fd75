import type { Executor } from "@/server/db/connection";
import { findOperatorQuota, sumUsageSince } from "@/server/db/queries/quotas";
import { effectiveLimits, monthlyQuotaRefusal, type QuotaLimits, startOfUtcMonth } from "./quota-limits";

/** For the gateway: the run's operator's monthly tokens or money used up, and what to say; undefined when not. */
export async function monthlyQuotaCutOff(
  db: Executor,
  defaults: QuotaLimits,
  userId: string,
  now: number,
): Promise<string | undefined> {
  const limits = effectiveLimits(defaults, await findOperatorQuota(db, userId));
  if (limits.tokensPerMonth === null && limits.usdPerMonthMicros === null) return undefined;
  const month = await sumUsageSince(db, userId, startOfUtcMonth(now));
  return monthlyQuotaRefusal(
    limits,
    { buildsToday: 0, runningNow: 0, tokensThisMonth: month.tokens, usdMicrosThisMonth: month.usdMicros },
    now,
  );
}
