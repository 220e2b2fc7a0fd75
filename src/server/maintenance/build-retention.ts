import type { Database } from "@/server/db/connection";
import { clearBuildKeys, listStoredBuildsOfProject } from "@/server/db/queries/pipeline";
import type { BlobStore } from "@/server/integrations/blob-store/port";

// A checkpoint's stored build (pipeline/build-output.ts) serves its deploy and a restore's preview, and both need
// the checkpoint's database branch. Once branch retention has deleted the branch of every checkpoint that names a
// build (checkpoints of one tree share it), nothing can serve that build again: it leaves the blob store. Blobs
// go first, rows after, so a crash in between only leaves the next pass a key to delete again (deletes are
// idempotent).

/** Deletes the project's stored builds that only checkpoints without a database branch name; returns their keys. */
export async function pruneUnservableBuilds(
  db: Database,
  blob: BlobStore,
  projectId: string,
): Promise<string[]> {
  const servable = new Set<string>();
  const named = new Set<string>();
  for (const row of await listStoredBuildsOfProject(db, projectId)) {
    if (!row.build_key) continue;
    named.add(row.build_key);
    if (row.branch_deleted_at === null) servable.add(row.build_key);
  }
  const unservable = [...named].filter((key) => !servable.has(key));
  if (unservable.length === 0) return [];
  await blob.delete(unservable);
  await clearBuildKeys(db, projectId, unservable);
  return unservable;
}
