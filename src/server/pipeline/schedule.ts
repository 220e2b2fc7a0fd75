import "server-only";
import { after } from "next/server";
import { getDb } from "@/server/context";
import type { SandboxWithOwner } from "@/server/db/queries/events";
import { findRevisionById, getProjectById } from "@/server/db/queries/pipeline";
import type { IngestResult } from "@/server/events/append";
import { logError } from "@/server/http/log";
import { type ProjectLeftovers, tearDownProject } from "@/server/projects/teardown-project";
import { advanceFromRunner } from "./advance-from-runner";
import { pipelineDeps, projectProviders, runnerEventDeps } from "./platform";
import { type PipelineDeps, runRevision } from "./run-revision";
import { serialize } from "./serialize";
import { stopRevisionSandbox } from "./stop-sandbox";
import { wakeRevision } from "./wake-revision";

// The request that starts work answers at once; the work runs after the response, in this server process.

/** After the response: `work` with the pipeline wired for the revision's project. */
function afterWithDeps(
  what: string,
  revisionId: string,
  work: (deps: PipelineDeps, revisionId: string) => Promise<void>,
): void {
  after(async () => {
    try {
      const db = await getDb();
      const revision = await findRevisionById(db, revisionId);
      if (!revision) return;
      const project = await getProjectById(db, revision.project_id);
      await work(await pipelineDeps(project), revisionId);
    } catch (error) {
      logError(`${what} ${revisionId}`, error);
    }
  });
}

/** Runs a queued revision's pipeline after the current response is sent. */
export function scheduleRevision(revisionId: string): void {
  afterWithDeps("pipeline", revisionId, runRevision);
}

/** Wakes a checkpoint's sleeping preview after the current response is sent. */
export function scheduleWake(revisionId: string): void {
  afterWithDeps("waking", revisionId, wakeRevision);
}

/** Advances a revision from a stored webhook batch, after the webhook has answered, one batch at a time. */
export function scheduleRunnerEvents(result: IngestResult, sandbox: SandboxWithOwner): Promise<void> {
  after(() =>
    serialize(result.revisionId, async () => {
      try {
        await advanceFromRunner(await runnerEventDeps(), result, sandbox);
      } catch (error) {
        logError(`runner events ${result.revisionId}`, error);
      }
    }),
  );
  return Promise.resolve();
}

/** Stops a cancelled revision's sandbox after the response (the run is over; its processes must go). */
export function scheduleSandboxStop(revisionId: string): void {
  after(async () => {
    try {
      await stopRevisionSandbox(await runnerEventDeps(), revisionId);
    } catch (error) {
      logError(`stopping the sandbox of ${revisionId}`, error);
    }
  });
}

/** Removes a deleted project's outside resources after the response (its rows are already gone). */
export function scheduleProjectTeardown(leftovers: ProjectLeftovers): void {
  after(async () => {
    try {
      const failures = await tearDownProject(await projectProviders(leftovers.project), leftovers);
      if (failures.length > 0)
        console.warn(`[kiln] project ${leftovers.project.id}: left behind ${failures.join(", ")}`);
    } catch (error) {
      logError(`tearing down project ${leftovers.project.id}`, error);
    }
  });
}
