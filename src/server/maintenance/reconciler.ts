import type { Executor } from "@/server/db/connection";
import { findSilentRevisions, findStrandedQueuedRevisions } from "@/server/db/queries/revisions";
import { appendPlatformEvent } from "@/server/events/append";
import { stepSchema } from "@/server/events/schema";
import { transitionRevision } from "@/server/revisions/transition";
import { runningStatuses } from "../revisions/state-machine";

// A queued revision has no sandbox yet: it waits for the pipeline to pick it up, which is not silence.
const inFlight = runningStatuses.filter((status) => status !== "queued");

export type ReconcileOptions = {
  /** How long a running revision may go without a sign of life. Default 10 minutes. */
  silenceMs?: number;
  now?: number;
};

/**
 * Nothing stays "running" forever: a revision whose sandbox stopped reporting (killed, timed out, or the platform
 * restarted mid-run) is failed with a reason an operator understands. Returns the ids it failed.
 */
export async function reconcileSilentRevisions(
  db: Executor,
  options: ReconcileOptions = {},
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const silenceMs = options.silenceMs ?? 10 * 60_000;
  const silence =
    silenceMs >= 60_000
      ? `${Math.round(silenceMs / 60_000)} minutes`
      : `${Math.round(silenceMs / 1000)} seconds`;
  const failed: string[] = [];
  for (const revision of await findSilentRevisions(db, inFlight, now - silenceMs)) {
    const reason =
      `No sign of life from this build for ${silence} while ${revision.status}: ` +
      "its sandbox stopped or the platform restarted. Start it again from the last checkpoint.";
    const changed = await transitionRevision(db, revision, "failed", {
      now,
      errorCode: "sandbox_silent",
      reason,
    });
    if (!changed) continue;
    failed.push(revision.id);
    // Watchers and the public replay learn it from the event stream, like every other transition.
    const scope = { projectId: revision.project_id, taskId: revision.task_id, revisionId: revision.id };
    const parsedStep = stepSchema.safeParse(revision.step);
    const step = parsedStep.success ? parsedStep.data : "generate";
    await appendPlatformEvent(db, { ...scope, body: { type: "step.failed", payload: { step, reason } } });
    await appendPlatformEvent(db, {
      ...scope,
      body: { type: "revision.status", payload: { status: "failed", reason } },
    });
  }
  return failed;
}

/**
 * A revision accepted just before the platform stopped never started: it is still queued. Starts each one found
 * queued for longer than `graceMs` (default 1 minute) with `start` (runRevision, which only one caller can move
 * out of queued, so a start racing its original one is harmless). Returns the ids it started.
 */
export async function resumeStrandedRevisions(
  db: Executor,
  start: (revision: { id: string; project_id: string }) => Promise<void>,
  options: { graceMs?: number; now?: number } = {},
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const stranded = await findStrandedQueuedRevisions(db, now - (options.graceMs ?? 60_000));
  for (const revision of stranded) await start(revision);
  return stranded.map((revision) => revision.id);
}
