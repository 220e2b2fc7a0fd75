import type { SandboxWithOwner } from "@/server/db/queries/events";
import { getProjectById, getRevisionById } from "@/server/db/queries/pipeline";
import type { IngestResult } from "@/server/events/append";
import type { RevisionStatus, StepName, WireEvent } from "@/server/events/schema";
import { ProviderError } from "@/server/integrations/provider-error";
import { finishRevision } from "./finish-revision";
import type { RunnerEventDeps } from "./pipeline-deps";
import { advance, failRun, type RunScope } from "./run-step";
import { commitFromRunner } from "./steps/commit";
import { keepAgentSession } from "./steps/generate";
import { checkRunnerPreview } from "./steps/preview";
import { stopRevisionSandbox } from "./stop-sandbox";

// The runner's events drive the revision once it runs: each step it starts moves the state machine; its commit
// bundle becomes the real commit; its preview is health-checked; its end finishes or fails the revision. Called
// for every accepted batch, retries included, so every action here is idempotent.

export type { RunnerEventDeps };

const statusOfStep: Partial<Record<StepName, RevisionStatus>> = {
  generate: "generating",
  migrate: "migrating",
  verify: "verifying",
  commit: "committing",
  preview: "previewing",
};

async function handle(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner, event: WireEvent) {
  if (event.type === "runner.step" && event.payload.status === "started") {
    const status = statusOfStep[event.payload.step];
    if (status) await advance(scope, status);
  } else if (event.type === "runner.committed") {
    await advance(scope, "committing");
    await commitFromRunner(deps, scope, row, event.payload.bundleFile);
  } else if (event.type === "runner.preview") {
    await advance(scope, "previewing");
    await checkRunnerPreview(deps, scope, row);
  } else if (event.type === "runner.finished") {
    await keepAgentSession(deps, scope, row);
    const providers = await deps.providersFor(await getProjectById(deps.db, scope.projectId));
    await finishRevision({ ...deps, providers }, scope);
  } else if (event.type === "runner.failed") {
    await failRun(
      scope,
      event.payload.step,
      new ProviderError("local-sandbox", "internal", event.payload.reason),
    );
    // Nothing can resume a failed run's sandbox: free it (a follow-up starts from the last commit). Only this
    // run's own sandbox, and only if the run did fail: a late or forged report must never stop a checkpoint's
    // live preview (a finished revision's sandbox), nor another revision's.
    const revision = await getRevisionById(deps.db, scope.revisionId);
    if (revision.status === "failed" && revision.sandbox_id === row.id) {
      await stopRevisionSandbox(deps, scope.revisionId);
    }
  }
}

export async function advanceFromRunner(
  deps: RunnerEventDeps,
  ingest: IngestResult,
  row: SandboxWithOwner,
): Promise<void> {
  const scope: RunScope = {
    db: deps.db,
    projectId: row.project_id,
    taskId: ingest.taskId,
    revisionId: ingest.revisionId,
  };
  const events = [...ingest.events].sort((a, b) => a.seq - b.seq);
  for (const event of events) {
    try {
      await handle(deps, scope, row, event);
    } catch (error) {
      const step: StepName =
        event.type === "runner.committed"
          ? "commit"
          : event.type === "runner.preview"
            ? "preview"
            : "generate";
      await failRun(scope, step, error);
      return;
    }
  }
}
