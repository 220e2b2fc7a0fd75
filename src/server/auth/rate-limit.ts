import type { Executor } from "@/server/db/connection";
import {
  claimRateLimitHit,
  clearRateLimit,
  type RateLimitState,
  releaseRateLimitHit,
} from "@/server/db/queries/rate-limits";

export type RateLimitRule = { bucket: string; limit: number; windowMs: number };

/** A hit this caller counted: `waitMs` > 0 means it went over the limit and must be refused. */
export type RateLimitClaim = { rule: RateLimitRule; state: RateLimitState; waitMs: number };

/**
 * Counts an attempt before it is made (check and record are one step, so parallel attempts cannot all slip
 * under the limit). Over the limit, the answer says how long until the window ends.
 */
export async function claimAttempt(db: Executor, rule: RateLimitRule, now: number): Promise<RateLimitClaim> {
  const state = await claimRateLimitHit(db, rule.bucket, now, rule.windowMs);
  const waitMs = state.hits > rule.limit ? Math.max(1, state.windowStartedAt + rule.windowMs - now) : 0;
  return { rule, state, waitMs };
}

/** Takes back an attempt that turned out fine, so only failures use up the limit. */
export function releaseAttempt(db: Executor, claim: RateLimitClaim): Promise<void> {
  return releaseRateLimitHit(db, claim.rule.bucket, claim.state.windowStartedAt);
}

export function resetBucket(db: Executor, rule: RateLimitRule): Promise<void> {
  return clearRateLimit(db, rule.bucket);
}
