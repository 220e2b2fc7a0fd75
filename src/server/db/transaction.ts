import { setTimeout as sleep } from "node:timers/promises";
import type { Executor } from "./connection";

// MySQL/TiDB abort one of two transactions that wait for each other's row locks (a deadlock) or that wait too long,
// and expect the application to run it again. Event writers, usage recording and rate limits lock rows of the same
// revisions and tasks from different requests, so such aborts are a normal event under load, not a failure.
const retryable = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);
const retryableErrno = new Set([1213, 1205]);
const ATTEMPTS = 4;

export function isRetryableTransactionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error ? String(error.code) : "";
  const errno = "errno" in error ? Number(error.errno) : Number.NaN;
  return retryable.has(code) || retryableErrno.has(errno);
}

/**
 * Runs `work` in a transaction (or in the caller's, when `db` already is one), running it again from the start
 * when the database aborted it as a deadlock victim. Inside a caller's transaction nothing is retried here: the
 * abort rolled back the caller's work too, so only the caller can start over.
 */
export async function inTransaction<T>(db: Executor, work: (tx: Executor) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      // Jittered, so the two transactions that collided do not collide again in step.
      await sleep(10 * attempt + Math.floor(Math.random() * 25));
    }
  }
}
