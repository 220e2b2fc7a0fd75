import type { Database } from "@/server/db/connection";
import { findUnleasedRunningRevisions } from "@/server/db/queries/revisions";
import { runningStatuses } from "@/server/revisions/state-machine";

/**
 * The revisions this scan hands to `carryOn`: running, held by no live server, and with something to do (see
 * `needsCarryOn`). Run every few seconds by one server of the cluster (platform/maintenance-timer.ts); the lease
 * inside `carryOn` keeps two servers from taking the same one.
 */
export async function revisionsToRecover(
  db: Database,
  needsCarryOn: (
    revision: Awaited<ReturnType<typeof findUnleasedRunningRevisions>>[number],
  ) => Promise<boolean>,
  now = Date.now(),
): Promise<string[]> {
  const ids: string[] = [];
  for (const revision of await findUnleasedRunningRevisions(db, runningStatuses, now)) {
    if (await needsCarryOn(revision)) ids.push(revision.id);
  }
  return ids;
}
