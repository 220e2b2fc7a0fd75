import type { Executor } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";

/**
 * One app server per period runs a periodic job: the first to move the job's expiry past `now` has this turn.
 * Returns whether this owner has it. A server that dies mid-job loses nothing: the next period's turn runs again.
 */
export async function claimJobTurn(
  db: Executor,
  name: string,
  owner: string,
  periodMs: number,
  now = Date.now(),
): Promise<boolean> {
  // Slightly short of a whole period, so the owner whose timer fires a little early next time still gets it.
  return claimNamedLease(db, name, owner, now + Math.max(1, periodMs - Math.min(1_000, periodMs / 10)), now);
}

/**
 * Takes the `job_lease` row `name` until `expiresAt` if it is missing or expired (one conditional UPDATE, else an
 * INSERT that a unique key keeps single). Returns whether this owner has it now.
 */
export async function claimNamedLease(
  db: Executor,
  name: string,
  owner: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  const taken = await db
    .updateTable("job_lease")
    .set({ owner, expires_at: expiresAt })
    .where("name", "=", name)
    .where("expires_at", "<=", now)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return true;
  try {
    await db.insertInto("job_lease").values({ name, owner, expires_at: expiresAt }).execute();
    return true;
  } catch (error) {
    // Another owner inserted the row first (or holds it): not ours.
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}
