import { planSchema } from "@/server/planner/plan-schema";
import { finishRevision } from "./finish-revision";
import { type LoadedRevision, loadRevision, type PipelineDeps } from "./pipeline-deps";
import { emit, type RunScope, runStep } from "./run-step";
import { commitRestoreStep } from "./steps/commit";
import { startGeneration } from "./steps/generate";
import { planStep } from "./steps/plan";
import { restorePreviewStep } from "./steps/preview";
import { type Provisioned, provisionRevision } from "./steps/provision";

// A revision's steps, in order. The platform runs plan and provision, then starts the agent (generate); from
// there the runner's webhook events carry migrate, preview, verify and commit (advance-from-runner.ts), and
// finish-revision.ts deploys and finishes. A restore needs no agent: provision, preview, commit, finish, all here.

export type { PipelineDeps };

async function provisionStep(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
  resume: boolean,
): Promise<Provisioned | undefined> {
  // Re-read: a project's resources are recorded by the first revision that provisions them.
  const project = (await loadRevision(deps.db, scope.revisionId))?.project ?? loaded.project;
  return runStep(
    scope,
    "provisioning",
    "provision",
    () =>
      provisionRevision(
        { ...deps, onProgress: (message) => void emit(scope, { type: "progress", payload: { message } }) },
        { ...loaded, project },
      ),
    resume,
  );
}

/**
 * Restore: the restored checkpoint's code (the sandbox holds it from provisioning) is previewed, then becomes a new
 * commit on top of the branch: the same order as an agent's revision, preview first.
 */
async function runRestore(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
  resume: boolean,
): Promise<void> {
  const target = loaded.parent;
  const provisioned = await provisionStep(deps, scope, loaded, resume);
  if (!provisioned || !target?.commit_sha) return;
  if (!(await restorePreviewStep(deps, scope, provisioned, resume)))
    return void (await provisioned.sandbox.stop());
  const committed = await commitRestoreStep(
    deps,
    scope,
    loaded,
    provisioned,
    { ordinal: target.ordinal, commitSha: target.commit_sha },
    resume,
  );
  if (!committed) return void (await provisioned.sandbox.stop());
  await finishRevision(deps, scope, { resume });
}

/** The agent's instructions: the operator's words for a follow-up, the stored plan's when it was planned. */
function storedPrompt(loaded: LoadedRevision): string | undefined {
  if (loaded.parent) return loaded.revision.prompt;
  if (!loaded.revision.plan) return undefined;
  const plan = planSchema.safeParse(JSON.parse(loaded.revision.plan));
  return plan.success ? plan.data.agentPrompt : undefined;
}

/**
 * Runs a queued revision's platform steps. Only the holder of the revision's lease calls it (carry-on.ts). Never
 * throws for a step failure: the revision records it. A first prompt is planned; a follow-up goes to the agent as
 * typed, resuming its session; a restore needs no agent at all.
 *
 * `resume`: the previous lease holder died during these steps. They run again from what is stored (a stored plan
 * is not asked for again; provisioning reuses the recorded repository and branches), in a new sandbox.
 */
export async function runRevision(
  deps: PipelineDeps,
  revisionId: string,
  options: { resume?: boolean } = {},
): Promise<void> {
  const resume = options.resume ?? false;
  const loaded = await loadRevision(deps.db, revisionId);
  if (!loaded) return;
  if (loaded.revision.status !== "queued" && !resume) return;
  const scope: RunScope = { db: deps.db, projectId: loaded.project.id, taskId: loaded.task.id, revisionId };
  if (loaded.revision.kind === "restore") return runRestore(deps, scope, loaded, resume);

  let prompt = storedPrompt(loaded);
  if (prompt === undefined) {
    const plan = await planStep(deps, scope, loaded, resume);
    if (!plan) return;
    prompt = plan.agentPrompt;
  }
  const provisioned = await provisionStep(deps, scope, loaded, resume);
  if (!provisioned) return;
  await startGeneration(deps, scope, loaded, prompt, provisioned, resume);
}
