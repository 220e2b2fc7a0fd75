import type { Database } from "@/server/db/connection";
import { listUnappliedRunnerEvents } from "@/server/db/queries/events";
import {
  findRevisionById,
  findSandboxRow,
  getProjectById,
  updateRevisionRow,
} from "@/server/db/queries/pipeline";
import type { Project, Revision } from "@/server/db/schema";
import { type PauseReader, pausedMessage } from "@/server/governance/pause-state";
import { logError } from "@/server/http/log";
import { claimRevisionLease, releaseRevisionLease, renewRevisionLease } from "@/server/leases/revision-lease";
import { isServerAlive } from "@/server/leases/server-presence";
import { isTerminal } from "@/server/revisions/state-machine";
import { applyRunnerEvents } from "./advance-from-runner";
import { cancelWithReason } from "./cancel-with-reason";
import { finishRevision } from "./finish-revision";
import type { PipelineDeps, RunnerEventDeps } from "./pipeline-deps";
import { startPreviewAtCommit } from "./preview-at-commit";
import { withRevisionLock } from "./revision-lock";
import { runRevision } from "./run-revision";
import { emit, type RunScope } from "./run-step";
import { stopRevisionSandbox } from "./stop-sandbox";

// Any app server carries a revision on from what the database says is done (docs/pipeline.md "Durability"). It
// holds the revision's lease while it works, renewing it; when it dies the lease runs out and the recovery scan
// (src/server/maintenance/recover-revisions.ts) hands the revision to another server, which does again only what
// was never stored: a stored plan is not asked for again, a stored commit never runs the agent again.

export type CarryOnDeps = {
  db: Database;
  /** This app server (src/server/platform). */
  serverId: string;
  pipelineDeps(project: Project): Promise<PipelineDeps>;
  runnerEventDeps(): RunnerEventDeps;
  /** The kill switch: paused work is cancelled with the admin's reason, never carried on. */
  pause?: PauseReader;
  /** How long a lease lasts without renewal; a dead holder's revision moves on this long after it died. */
  leaseTtlMs?: number;
};

export const DEFAULT_LEASE_TTL_MS = 10_000;

/** Statuses where the runner, not the platform, is at work (for a revision made by an agent). */
const runnerStatuses = new Set(["generating", "migrating", "previewing", "verifying", "committing"]);

/** The sandbox a revision's runner ran in is gone with the app server that hosted it. */
async function runnerSandboxDied(db: Database, revision: Revision): Promise<boolean> {
  if (!revision.sandbox_id) return true;
  const row = await findSandboxRow(db, revision.sandbox_id);
  if (!row || row.stopped_at !== null) return true;
  return row.server_id !== null && !(await isServerAlive(db, row.server_id));
}

/** The runner, not the platform, is at work: a revision made by an agent, between generate and commit. */
function isRunnerAtWork(revision: Revision): boolean {
  return revision.kind !== "restore" && runnerStatuses.has(revision.status);
}

/** A new sandbox at the revision's stored commit, on its own branch, serves its preview again. */
async function previewStoredCommit(pipeline: PipelineDeps, revision: Revision): Promise<void> {
  if (!revision.commit_sha || !revision.db_branch_id) return;
  await startPreviewAtCommit(pipeline, revision, {
    commitSha: revision.commit_sha,
    dbBranchId: revision.db_branch_id,
  });
}

/** Whether the revision has runner events nobody applied yet. */
async function hasUnappliedEvents(db: Database, revision: Revision): Promise<boolean> {
  return (await listUnappliedRunnerEvents(db, revision.id, revision.advanced_seq)).length > 0;
}

function scopeOf(db: Database, revision: Revision): RunScope {
  return { db, projectId: revision.project_id, taskId: revision.task_id, revisionId: revision.id };
}

/**
 * The runner's sandbox died with its server before the agent's work was captured, or after (its commit stored).
 * Captured: the checkpoint is previewed from its commit and finished. Not captured: the agent runs again in a new
 * sandbox (the only case where it does).
 */
async function recoverRunner(deps: CarryOnDeps, revision: Revision, project: Project): Promise<void> {
  const scope = scopeOf(deps.db, revision);
  // What the dead sandbox reported and nobody applied is void: its files are gone.
  const last = await listUnappliedRunnerEvents(deps.db, revision.id, revision.advanced_seq);
  const lastSeq = last.at(-1)?.seq;
  if (lastSeq !== undefined) await updateRevisionRow(deps.db, revision.id, { advanced_seq: lastSeq });
  const pipeline = await deps.pipelineDeps(project);
  if (revision.commit_sha && revision.db_branch_id) {
    await emit(scope, {
      type: "progress",
      payload: {
        message: "The server running this build stopped; its commit is safe. Starting its preview again…",
      },
    });
    await previewStoredCommit(pipeline, revision);
    await finishRevision(pipeline, scope, { resume: true });
    return;
  }
  await emit(scope, {
    type: "progress",
    payload: {
      message:
        "The server running this build stopped before the agent's work was saved. Starting the agent again…",
    },
  });
  await runRevision(pipeline, revision.id, { resume: true });
}

/** One pass over the revision as stored. The caller holds its lease. */
async function carryOnOnce(deps: CarryOnDeps, revisionId: string): Promise<void> {
  const revision = await findRevisionById(deps.db, revisionId);
  if (!revision || isTerminal(revision.status)) return;
  // Read fresh: a revision created on a server whose cache had not seen the pause yet must not start.
  const pause = await deps.pause?.fresh();
  if (pause) {
    await cancelWithReason(deps.db, revisionId, pausedMessage(pause));
    await stopRevisionSandbox(deps.runnerEventDeps(), revisionId);
    return;
  }
  const project = await getProjectById(deps.db, revision.project_id);
  if (revision.status === "queued") return runRevision(await deps.pipelineDeps(project), revisionId);
  if (!isRunnerAtWork(revision)) {
    // Planning, provisioning, a restore's steps, deploying: platform work whose server died mid-way (the live
    // holder of the lease runs these through to the runner's start or to the end).
    if (revision.status === "deploying") {
      const pipeline = await deps.pipelineDeps(project);
      if (await runnerSandboxDied(deps.db, revision)) await previewStoredCommit(pipeline, revision);
      return finishRevision(pipeline, scopeOf(deps.db, revision), { resume: true });
    }
    return runRevision(await deps.pipelineDeps(project), revisionId, { resume: true });
  }
  if (await runnerSandboxDied(deps.db, revision)) return recoverRunner(deps, revision, project);
  await applyRunnerEvents(deps.runnerEventDeps(), revision);
}

/**
 * Whether a running revision that no server holds must be carried on now: it waited in the queue past `queuedGraceMs`
 * (the request that made it normally starts it at once), its server died during platform work, its runner's
 * sandbox died with its server, or its runner's events wait to be applied.
 */
export async function needsCarryOn(
  db: Database,
  revision: Revision,
  options: { now: number; queuedGraceMs: number },
): Promise<boolean> {
  if (isTerminal(revision.status)) return false;
  if (revision.status === "queued") return revision.updated_at < options.now - options.queuedGraceMs;
  if (!isRunnerAtWork(revision)) return true;
  return (await runnerSandboxDied(db, revision)) || (await hasUnappliedEvents(db, revision));
}

/**
 * Carries the revision on under its lease, then lets go. Returns false when another server holds the lease: that
 * server looks for unapplied events once more after it lets go, so nothing waits for the next recovery scan.
 */
export async function carryOn(deps: CarryOnDeps, revisionId: string): Promise<boolean> {
  const ttlMs = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  let carried = false;
  await withRevisionLock(revisionId, async () => {
    for (;;) {
      if (!(await claimRevisionLease(deps.db, revisionId, deps.serverId, ttlMs))) return;
      carried = true;
      const renewal = setInterval(
        () => {
          renewRevisionLease(deps.db, revisionId, deps.serverId, ttlMs).catch((error: unknown) =>
            logError(`renewing the lease of ${revisionId}`, error),
          );
        },
        Math.max(250, Math.floor(ttlMs / 3)),
      );
      try {
        await carryOnOnce(deps, revisionId);
      } finally {
        clearInterval(renewal);
        await releaseRevisionLease(deps.db, revisionId, deps.serverId);
      }
      // Events stored after the last read and before the release would otherwise wait for the next scan.
      const after = await findRevisionById(deps.db, revisionId);
      if (!after || isTerminal(after.status) || !(await hasUnappliedEvents(deps.db, after))) return;
    }
  });
  return carried;
}
