import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";
import { inTransaction } from "../transaction";

export type RateLimitState = { hits: number; windowStartedAt: number };

/** Counts one hit in a fixed window, starting a new window when the old one has passed. Atomic per bucket. */
async function upsertHit(db: Executor, bucket: string, now: number, windowMs: number): Promise<void> {
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

/**
 * Counts one hit and returns the bucket as this hit left it, as one atomic step: of N concurrent callers each sees
 * a different count, so a limit of L lets exactly L through however many app servers race on the same database.
 */
export async function claimRateLimitHit(
  db: Executor,
  bucket: string,
  now: number,
  windowMs: number,
): Promise<RateLimitState> {
  // The upsert takes the row's write lock (MySQL: until commit; SQLite: the single writer), and the read-back
  // happens under it, so no other hit can land between counting and reading.
  const claim = async (trx: Executor) => {
    await upsertHit(trx, bucket, now, windowMs);
    const row = await trx
      .selectFrom("rate_limit")
      .select(["hits", "window_started_at"])
      .where("bucket", "=", bucket)
      .$if(isMysqlExecutor(trx), (qb) => qb.forUpdate())
      .executeTakeFirstOrThrow();
    return { hits: row.hits, windowStartedAt: row.window_started_at };
  };
  return inTransaction(db, claim);
}

/** Gives back one hit claimed in the window that started at `windowStartedAt` (a later window is left alone). */
export async function releaseRateLimitHit(
  db: Executor,
  bucket: string,
  windowStartedAt: number,
): Promise<void> {
  await db
    .updateTable("rate_limit")
    .set((eb) => ({ hits: eb("hits", "-", 1) }))
    .where("bucket", "=", bucket)
    .where("window_started_at", "=", windowStartedAt)
    .where("hits", ">", 0)
    .execute();
}

export async function clearRateLimit(db: Executor, bucket: string): Promise<void> {
  await db.deleteFrom("rate_limit").where("bucket", "=", bucket).execute();
}
