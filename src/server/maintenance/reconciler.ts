import type { Executor } from "@/server/db/connection";
import { findSandboxRow } from "@/server/db/queries/pipeline";
import { findSilentRevisions } from "@/server/db/queries/revisions";
import type { Revision } from "@/server/db/schema";
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
 * What went quiet, and what to do. A retry is offered only where one can help: a runner never heard from may not
 * reach Kiln at all (unreachable-runners.ts says so when it left word), and sending the prompt again would fail
 * the same way until KILN_PUBLIC_URL is fixed.
 */
async function silenceReason(db: Executor, revision: Revision, silence: string): Promise<string> {
  const quiet = `No sign of life from this build for ${silence} while ${revision.status}`;
  const sandbox =
    revision.status === "generating" && revision.sandbox_id
      ? await findSandboxRow(db, revision.sandbox_id)
      : undefined;
  if (sandbox && sandbox.last_event_at === null) {
    return (
      `${quiet}: its sandbox never reported. It stopped at once, or it cannot reach Kiln: check that ` +
      "KILN_PUBLIC_URL is an address Kiln's sandboxes reach, then send the prompt again."
    );
  }
  const retry =
    revision.kind === "restore"
      ? "Restore the checkpoint again to retry."
      : "Send the prompt again to retry.";
  return `${quiet}: its sandbox stopped or the platform restarted. ${retry}`;
}

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
    const reason = await silenceReason(db, revision, silence);
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
