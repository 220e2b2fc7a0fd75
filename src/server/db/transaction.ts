import { setTimeout as sleep } from "node:timers/promises";
import type { Executor } from "./connection";
import { isRetryableLockError } from "./lock-errors";

// A transaction that lost a deadlock or a lock wait (lock-errors.ts) is run again from the start.
const ATTEMPTS = 4;

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
      if (attempt >= ATTEMPTS || !isRetryableLockError(error)) throw error;
      // Jittered, so the two transactions that collided do not collide again in step.
      await sleep(10 * attempt + Math.floor(Math.random() * 25));
    }
  }
}
