import {
  type EventRow,
  findSandboxWithOwner,
  listUnappliedRunnerEvents,
  type SandboxWithOwner,
} from "@/server/db/queries/events";
import { getProjectById, getRevisionById, updateRevisionRow } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { type EventBody, eventBodySchema, type RevisionStatus, type StepName } from "@/server/events/schema";
import { ProviderError } from "@/server/integrations/provider-error";
import { finishRevision } from "./finish-revision";
import type { RunnerEventDeps } from "./pipeline-deps";
import { advance, failRun, type RunScope } from "./run-step";
import { commitFromRunner } from "./steps/commit";
import { keepAgentSession } from "./steps/generate";
import { checkRunnerPreview } from "./steps/preview";
import { stopRevisionSandbox } from "./stop-sandbox";

// The runner's events drive the revision once it runs: each step it starts moves the state machine; its preview
// (reported before verify) is health-checked and recorded, so the operator sees it while the build runs; its commit
// bundle becomes the real commit; its end (after verify and commit) finishes or fails the revision. Called
// for every accepted batch, retries included, so every action here is idempotent.

export type { RunnerEventDeps };

const statusOfStep: Partial<Record<StepName, RevisionStatus>> = {
  generate: "generating",
  migrate: "migrating",
  preview: "previewing",
  verify: "verifying",
  commit: "committing",
};

async function handle(deps: RunnerEventDeps, scope: RunScope, row: SandboxWithOwner, event: EventBody) {
  if (event.type === "runner.step" && event.payload.status === "started") {
    const status = statusOfStep[event.payload.step];
    if (status) await advance(scope, status);
  } else if (event.type === "runner.committed") {
    await advance(scope, "committing");
    await commitFromRunner(deps, scope, row, event.payload);
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

/** What a stored runner event says, or null for one that does not parse (it is skipped, never applied). */
function bodyOf(row: EventRow): EventBody | null {
  const parsed = eventBodySchema.safeParse({ type: row.type, payload: JSON.parse(row.payload) });
  return parsed.success ? parsed.data : null;
}

/**
 * Applies a revision's stored runner events that are not applied yet, in the order the runner sent them, moving
 * `advanced_seq` past each. The caller holds the revision's lease (carry-on.ts), so across every app server one
 * applies them at a time. Returns false when an event's effect failed the revision.
 */
export async function applyRunnerEvents(deps: RunnerEventDeps, revision: Revision): Promise<boolean> {
  const scope: RunScope = {
    db: deps.db,
    projectId: revision.project_id,
    taskId: revision.task_id,
    revisionId: revision.id,
  };
  let applied = revision.advanced_seq;
  for (;;) {
    const rows = await listUnappliedRunnerEvents(deps.db, revision.id, applied);
    if (rows.length === 0) return true;
    for (const row of rows) {
      const body = bodyOf(row);
      const sandbox = row.sandbox_id ? await findSandboxWithOwner(deps.db, row.sandbox_id) : undefined;
      try {
        if (body && sandbox) await handle(deps, scope, sandbox, body);
      } catch (error) {
        await markApplied(deps, revision.id, row.seq);
        const step: StepName =
          body?.type === "runner.committed"
            ? "commit"
            : body?.type === "runner.preview"
              ? "preview"
              : "generate";
        await failRun(scope, step, error);
        return false;
      }
      await markApplied(deps, revision.id, row.seq);
      applied = row.seq;
    }
  }
}

async function markApplied(deps: RunnerEventDeps, revisionId: string, seq: number): Promise<void> {
  await updateRevisionRow(deps.db, revisionId, { advanced_seq: seq });
}
