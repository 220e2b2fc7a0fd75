import {
  findDbBranch,
  findRevisionById,
  findSandboxRow,
  getProjectById,
  markSandboxStopped,
  updateRevisionRow,
  updateSandboxRow,
} from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { logError } from "@/server/http/log";
import {
  decryptBranchConnection,
  tcpEndpointsOf,
} from "@/server/integrations/database-branches/branch-connection";
import { repoRefOf } from "@/server/projects/project-resources";
import { DevServerError, startDevServer } from "@/server/templates/dev-server";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import { withRevisionLock } from "./revision-lock";
import { emit, type RunScope, reasonOf } from "./run-step";
import { waitForHealthyPreview } from "./steps/preview";
import { type ProvisionContext, startRevisionSandbox } from "./steps/provision";

// Waking a finished checkpoint whose preview went to sleep (idle-sandboxes.ts): a new warm sandbox holding the
// checkpoint's commit, its dev server on the checkpoint's own database branch, and the revision pointed at it. The
// revision itself never changes state: it stays finished whether the wake works or not.

/** What a wake needs of the pipeline's dependencies (PipelineDeps fits). */
export type WakeDeps = ProvisionContext;

const PREVIEW_HEALTH_TIMEOUT_MS = 60_000;

function progress(scope: RunScope, message: string): Promise<void> {
  return emit(scope, { type: "progress", payload: { message: message.slice(0, 1_900) } });
}

/** The dev server's own output can be long and is the app's: the first line says what happened. */
function wakeFailureReason(error: unknown): string {
  if (error instanceof DevServerError) return error.message.split("\n")[0] ?? error.message;
  return reasonOf(error);
}

async function isAwake(deps: WakeDeps, revision: Revision): Promise<boolean> {
  if (!revision.sandbox_id) return false;
  const row = await findSandboxRow(deps.db, revision.sandbox_id);
  return row !== undefined && row.stopped_at === null;
}

async function startPreview(
  deps: WakeDeps,
  revision: Revision,
  target: { commitSha: string; dbBranchId: string },
): Promise<void> {
  const branch = await findDbBranch(deps.db, target.dbBranchId);
  if (!branch?.connection_ciphertext || branch.deleted_at !== null) {
    throw new AppError("conflict:branch_pruned", "Its database branch was removed by retention.");
  }
  const connection = decryptBranchConnection(deps.key, branch.id, branch.connection_ciphertext);
  const project = await getProjectById(deps.db, revision.project_id);
  const repo = repoRefOf(project);
  if (!repo) throw new AppError("conflict:revision_state", "The project has no repository to wake it from.");
  const cache = await ensureTemplateCache({
    templateDir: deps.templateDir,
    cacheRoot: deps.templateCacheRoot,
  });
  // Recorded before the dev server starts, so a crash from here on leaves a row idle cleanup can stop.
  const { sandbox, sandboxRowId } = await startRevisionSandbox(deps, {
    project,
    revision,
    cache,
    repo,
    syncTo: target.commitSha,
    hostPaths: connection.hostPaths,
    tcpEndpoints: tcpEndpointsOf(connection.databaseUrl),
  });
  try {
    const server = await startDevServer(sandbox, { env: { DATABASE_URL: connection.databaseUrl } });
    await waitForHealthyPreview(server.url, PREVIEW_HEALTH_TIMEOUT_MS);
    const ready = Date.now();
    await updateSandboxRow(deps.db, sandboxRowId, { preview_url: server.url, updated_at: ready });
    await updateRevisionRow(deps.db, revision.id, {
      sandbox_id: sandboxRowId,
      preview_url: server.url,
      updated_at: ready,
    });
  } catch (error) {
    try {
      await sandbox.stop();
    } finally {
      await markSandboxStopped(deps.db, sandboxRowId, Date.now());
    }
    throw error;
  }
}

async function wake(deps: WakeDeps, revisionId: string): Promise<void> {
  const revision = await findRevisionById(deps.db, revisionId);
  const commitSha = revision?.commit_sha;
  const dbBranchId = revision?.db_branch_id;
  if (revision?.status !== "finished" || !commitSha || !dbBranchId) return;
  if (await isAwake(deps, revision)) return;
  const scope: RunScope = {
    db: deps.db,
    projectId: revision.project_id,
    taskId: revision.task_id,
    revisionId,
  };
  await progress(scope, "Waking the preview…");
  try {
    await startPreview(deps, revision, { commitSha, dbBranchId });
  } catch (error) {
    if (!(error instanceof AppError)) logError(`waking the preview of ${revisionId}`, error);
    await progress(scope, `The preview could not be woken: ${wakeFailureReason(error)}`);
    return;
  }
  await progress(scope, "The preview is awake.");
}

/**
 * Wakes a finished checkpoint's sleeping preview. Idempotent: nothing happens while its preview is awake, and two
 * calls in this process run one after the other (the second then finds it awake). Never throws for a failed wake:
 * the revision's events say why, and the new sandbox is stopped again.
 */
export function wakeRevision(deps: WakeDeps, revisionId: string): Promise<void> {
  return withRevisionLock(`wake:${revisionId}`, () => wake(deps, revisionId));
}
