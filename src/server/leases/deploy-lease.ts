import type { Executor } from "@/server/db/connection";
import { claimNamedLease } from "./job-lease";

// One redeploy of a checkpoint at a time, across app servers: a `job_lease` row named `deploy:<revisionId>`, held by
// the redeploy's own owner id, renewed while it runs and deleted when it ends. A server that dies mid-redeploy stops
// renewing it, so the checkpoint can be redeployed again once it has expired.

const PREFIX = "deploy:";

/** How long a redeploy's lease lasts without a renewal (its work renews it every 20 s). */
export const DEPLOY_LEASE_TTL_MS = 2 * 60_000;

/** Takes the lease if it is free or expired; false while another redeploy holds it. */
export async function claimDeployLease(
  db: Executor,
  revisionId: string,
  owner: string,
  ttlMs: number,
  now = Date.now(),
): Promise<boolean> {
  return claimNamedLease(db, `${PREFIX}${revisionId}`, owner, now + ttlMs, now);
}

export async function renewDeployLease(
  db: Executor,
  revisionId: string,
  owner: string,
  ttlMs: number,
  now = Date.now(),
): Promise<void> {
  await db
    .updateTable("job_lease")
    .set({ expires_at: now + ttlMs })
    .where("name", "=", `${PREFIX}${revisionId}`)
    .where("owner", "=", owner)
    .execute();
}

export async function releaseDeployLease(db: Executor, revisionId: string, owner: string): Promise<void> {
  await db
    .deleteFrom("job_lease")
    .where("name", "=", `${PREFIX}${revisionId}`)
    .where("owner", "=", owner)
    .execute();
}

/** Whether a redeploy of the checkpoint is under way (its lease is held and not expired). */
export async function isDeployLeaseHeld(
  db: Executor,
  revisionId: string,
  now = Date.now(),
): Promise<boolean> {
  const row = await db
    .selectFrom("job_lease")
    .select("expires_at")
    .where("name", "=", `${PREFIX}${revisionId}`)
    .executeTakeFirst();
  return row !== undefined && row.expires_at >= now;
}
