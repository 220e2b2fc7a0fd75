import { finishRevision } from "./finish-revision";
import { type LoadedRevision, loadRevision, type PipelineDeps } from "./pipeline-deps";
import { emit, type RunScope, runStep } from "./run-step";
import { commitRestoreStep } from "./steps/commit";
import { startGeneration } from "./steps/generate";
import { planStep } from "./steps/plan";
import { restorePreviewStep } from "./steps/preview";
import { type Provisioned, provisionRevision } from "./steps/provision";

// A revision's steps, in order. The platform runs plan and provision, then starts the agent (generate); from
// there the runner's webhook events carry migrate, verify, commit and preview (advance-from-runner.ts), and
// finish-revision.ts deploys and finishes. A restore needs no agent: provision, commit, preview, finish, all here.

export type { PipelineDeps };

async function provisionStep(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
): Promise<Provisioned | undefined> {
  // Re-read: a project's resources are recorded by the first revision that provisions them.
  const project = (await loadRevision(deps.db, scope.revisionId))?.project ?? loaded.project;
  return runStep(scope, "provisioning", "provision", () =>
    provisionRevision(
      { ...deps, onProgress: (message) => void emit(scope, { type: "progress", payload: { message } }) },
      { ...loaded, project },
    ),
  );
}

/** Restore: the code of the restored checkpoint becomes a new commit on top, then it is previewed. */
async function runRestore(deps: PipelineDeps, scope: RunScope, loaded: LoadedRevision): Promise<void> {
  const target = loaded.parent;
  const provisioned = await provisionStep(deps, scope, loaded);
  if (!provisioned || !target?.commit_sha) return;
  const committed = await commitRestoreStep(deps, scope, loaded, provisioned, {
    ordinal: target.ordinal,
    commitSha: target.commit_sha,
  });
  if (!committed) return void (await provisioned.sandbox.stop());
  if (!(await restorePreviewStep(deps, scope, provisioned))) return void (await provisioned.sandbox.stop());
  await finishRevision(deps, scope);
}

/**
 * Runs a queued revision's platform steps. Safe to call twice: only the caller that moves it out of `queued` runs
 * it. Never throws for a step failure: the revision records it. A first prompt is planned; a follow-up goes to the
 * agent as typed, resuming its session; a restore needs no agent at all.
 */
export async function runRevision(deps: PipelineDeps, revisionId: string): Promise<void> {
  const loaded = await loadRevision(deps.db, revisionId);
  if (loaded?.revision.status !== "queued") return;
  const scope: RunScope = { db: deps.db, projectId: loaded.project.id, taskId: loaded.task.id, revisionId };
  if (loaded.revision.kind === "restore") return runRestore(deps, scope, loaded);

  let prompt = loaded.revision.prompt;
  if (!loaded.parent) {
    const plan = await planStep(deps, scope, loaded);
    if (!plan) return;
    prompt = plan.agentPrompt;
  }
  const provisioned = await provisionStep(deps, scope, loaded);
  if (!provisioned) return;
  await startGeneration(deps, scope, loaded, prompt, provisioned);
}
