import type { Executor } from "@/server/db/connection";
import { clearRateLimit, findRateLimit, recordRateLimitHit } from "@/server/db/queries/rate-limits";

export type RateLimitRule = { bucket: string; limit: number; windowMs: number };

/** Milliseconds until the bucket accepts again, or 0 when it is open now. */
export async function rateLimitWait(db: Executor, rule: RateLimitRule, now: number): Promise<number> {
  const state = await findRateLimit(db, rule.bucket);
  if (!state) return 0;
  const reopensAt = state.windowStartedAt + rule.windowMs;
  if (reopensAt <= now || state.hits < rule.limit) return 0;
  return reopensAt - now;
}

export function recordHit(db: Executor, rule: RateLimitRule, now: number): Promise<void> {
  return recordRateLimitHit(db, rule.bucket, now, rule.windowMs);
}

export function resetBucket(db: Executor, rule: RateLimitRule): Promise<void> {
  return clearRateLimit(db, rule.bucket);
}
