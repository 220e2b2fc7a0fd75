import type { Database } from "@/server/db/connection";
import { getRevisionById } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { isAppError } from "@/server/errors";
import { appendPlatformEvent } from "@/server/events/append";
import type { EventBody, RevisionStatus, StepName } from "@/server/events/schema";
import { logError } from "@/server/http/log";
import { ProviderError } from "@/server/integrations/provider-error";
import { PlannerError } from "@/server/planner/planner-error";
import { transitionRevision } from "@/server/revisions/transition";
import { isRunning, isTerminal, runningStatuses } from "../revisions/state-machine";

export type RunScope = { db: Database; projectId: string; taskId: string; revisionId: string };

export async function emit(scope: RunScope, body: EventBody): Promise<void> {
  await appendPlatformEvent(scope.db, {
    projectId: scope.projectId,
    taskId: scope.taskId,
    revisionId: scope.revisionId,
    body,
  });
}

function currentRevision(scope: RunScope): Promise<Revision> {
  return getRevisionById(scope.db, scope.revisionId);
}

/** Moves the revision forward and records it; false when it is no longer movable (cancelled, already ahead). */
export async function advance(scope: RunScope, to: RevisionStatus, reason?: string): Promise<boolean> {
  const revision = await currentRevision(scope);
  if (revision.status === to) return false;
  try {
    if (!(await transitionRevision(scope.db, revision, to, { reason }))) return false;
  } catch (error) {
    if (isAppError(error) && error.code === "conflict:revision_state") return false;
    throw error;
  }
  await emit(scope, { type: "revision.status", payload: { status: to, ...(reason ? { reason } : {}) } });
  return true;
}

/**
 * Enters `status` for a step. Resuming (the revision's previous lease holder died), a revision already at or past
 * it counts as entered: the step is done again from what is stored, and the state machine never moves backwards.
 */
export async function enter(scope: RunScope, status: RevisionStatus, resume = false): Promise<boolean> {
  if (resume) {
    const current = (await currentRevision(scope)).status;
    if (
      isRunning(current) &&
      isRunning(status) &&
      runningStatuses.indexOf(current) >= runningStatuses.indexOf(status)
    )
      return true;
  }
  return advance(scope, status);
}

/** What an operator reads when a step fails: our own errors say what to do; anything else stays generic. */
export function reasonOf(error: unknown): string {
  if (error instanceof ProviderError || error instanceof PlannerError || isAppError(error))
    return error.message;
  return "An unexpected error stopped this step. The details are in the server log.";
}

export async function failRun(scope: RunScope, step: StepName, error: unknown): Promise<void> {
  // A late failure (a runner's retried events after the reconciler or a cancel ended the run) changes nothing.
  if (isTerminal((await currentRevision(scope)).status)) return;
  if (!(error instanceof ProviderError || error instanceof PlannerError || isAppError(error)))
    logError(`pipeline ${step}`, error);
  const reason = reasonOf(error).slice(0, 1_900);
  await emit(scope, { type: "step.failed", payload: { step, reason } });
  await advance(scope, "failed", reason);
}

/**
 * Runs one platform-side step: the state moves first (so watchers see it start), the step's events bracket the
 * work, and a failure ends the revision with the step's reason. Returns undefined when the revision was cancelled
 * or moved on meanwhile (the step is then not run) or when it failed.
 */
export async function runStep<T>(
  scope: RunScope,
  status: RevisionStatus,
  step: StepName,
  work: () => Promise<T>,
  resume = false,
): Promise<T | undefined> {
  if (!(await enter(scope, status, resume))) return undefined;
  await emit(scope, { type: "step.started", payload: { step } });
  const started = Date.now();
  try {
    const result = await work();
    await emit(scope, { type: "step.finished", payload: { step, durationMs: Date.now() - started } });
    return result;
  } catch (error) {
    await failRun(scope, step, error);
    return undefined;
  }
}
