import { findRevisionById, findSandboxRow } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { logError } from "@/server/http/log";
import { DevServerError } from "@/server/templates/dev-server";
import { startPreviewAtCommit } from "./preview-at-commit";
import { withRevisionLock } from "./revision-lock";
import { emit, type RunScope, reasonOf } from "./run-step";
import type { ProvisionContext } from "./steps/provision";

// Waking a finished checkpoint whose preview went to sleep (idle-sandboxes.ts): a new warm sandbox holding the
// checkpoint's commit, its dev server on the checkpoint's own database branch, and the revision pointed at it. The
// revision itself never changes state: it stays finished whether the wake works or not.

/** What a wake needs of the pipeline's dependencies (PipelineDeps fits). */
export type WakeDeps = ProvisionContext;

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
    await startPreviewAtCommit(deps, revision, { commitSha, dbBranchId });
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
