import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";

export type RateLimitState = { hits: number; windowStartedAt: number };

export async function findRateLimit(db: Executor, bucket: string): Promise<RateLimitState | undefined> {
  const row = await db
    .selectFrom("rate_limit")
    .select(["hits", "window_started_at"])
    .where("bucket", "=", bucket)
    .executeTakeFirst();
  return row ? { hits: row.hits, windowStartedAt: row.window_started_at } : undefined;
}

/** Counts one hit in a fixed window, starting a new window when the old one has passed. Atomic per bucket. */
export async function recordRateLimitHit(db: Executor, bucket: string, now: number, windowMs: number) {
  const expired = now - windowMs;
  if (isMysqlExecutor(db)) {
    await db
      .insertInto("rate_limit")
      .values({ bucket, hits: 1, window_started_at: now })
      .onDuplicateKeyUpdate((eb) => ({
        // Evaluated left to right in MySQL: `hits` must be computed before `window_started_at` changes.
        hits: eb
          .case()
          .when("window_started_at", "<=", expired)
          .then(1)
          .else(eb("hits", "+", 1))
          .end(),
        window_started_at: eb
          .case()
          .when("window_started_at", "<=", expired)
          .then(now)
          .else(eb.ref("window_started_at"))
          .end(),
      }))
      .execute();
    return;
  }
  await db
    .insertInto("rate_limit")
    .values({ bucket, hits: 1, window_started_at: now })
    .onConflict((oc) =>
      oc.column("bucket").doUpdateSet((eb) => ({
        hits: eb
          .case()
          .when("rate_limit.window_started_at", "<=", expired)
          .then(1)
          .else(eb("rate_limit.hits", "+", 1))
          .end(),
        window_started_at: eb
          .case()
          .when("rate_limit.window_started_at", "<=", expired)
          .then(now)
          .else(eb.ref("rate_limit.window_started_at"))
          .end(),
      })),
    )
    .execute();
}

export async function clearRateLimit(db: Executor, bucket: string): Promise<void> {
  await db.deleteFrom("rate_limit").where("bucket", "=", bucket).execute();
}
