import type { Executor } from "@/server/db/connection";

// A revision is carried on by one app server at a time: the one holding its lease (owner + expiry in the revision
// row). A holder renews it while it works; a dead holder's lease runs out and any server may take it. Claims are
// one conditional UPDATE, so they work alike on MySQL/TiDB and on embedded libSQL.

/** Takes the revision's lease for `ttlMs` if it is free, expired or already this owner's. */
export async function claimRevisionLease(
  db: Executor,
  revisionId: string,
  owner: string,
  ttlMs: number,
  now = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("revision")
    .set({ lease_owner: owner, lease_expires_at: now + ttlMs })
    .where("id", "=", revisionId)
    .where((eb) =>
      eb.or([eb("lease_owner", "is", null), eb("lease_owner", "=", owner), eb("lease_expires_at", "<", now)]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Extends a lease this owner still holds; false when it was lost (expired and taken by another server). */
export async function renewRevisionLease(
  db: Executor,
  revisionId: string,
  owner: string,
  ttlMs: number,
  now = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("revision")
    .set({ lease_expires_at: now + ttlMs, heartbeat_at: now })
    .where("id", "=", revisionId)
    .where("lease_owner", "=", owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseRevisionLease(db: Executor, revisionId: string, owner: string): Promise<void> {
  await db
    .updateTable("revision")
    .set({ lease_owner: null, lease_expires_at: null })
    .where("id", "=", revisionId)
    .where("lease_owner", "=", owner)
    .execute();
}
