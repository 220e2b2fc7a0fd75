import type { Database } from "@/server/db/connection";
import {
  findRevisionById,
  findSandboxRow,
  getProjectById,
  updateRevisionRow,
  updateSandboxRow,
} from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import type { Providers } from "@/server/integrations/registry";

/**
 * Stops a revision's sandbox (idempotent) and records it: used when a run is cancelled or has failed. The preview
 * it served (recorded before verify) is gone with it: an unfinished checkpoint then shows no preview rather than a
 * dead frame (a finished one sleeps and keeps its URL for waking, see idle-sandboxes.ts).
 */
export async function stopRevisionSandbox(
  deps: { db: Database; providersFor(project: Project): Promise<Providers> },
  revisionId: string,
): Promise<boolean> {
  const revision = await findRevisionById(deps.db, revisionId);
  if (!revision?.sandbox_id) return false;
  const row = await findSandboxRow(deps.db, revision.sandbox_id);
  if (!row?.external_id || row.stopped_at !== null) return false;
  const providers = await deps.providersFor(await getProjectById(deps.db, revision.project_id));
  await (await providers.sandboxes.get(row.external_id))?.stop();
  const now = Date.now();
  await updateSandboxRow(deps.db, row.id, { status: "stopped", stopped_at: now, updated_at: now });
  if (revision.status !== "finished" && revision.preview_url !== null) {
    await updateRevisionRow(deps.db, revision.id, { preview_url: null, updated_at: now });
  }
  return true;
}
