import "server-only";
import { after } from "next/server";
import { findRevisionById, getProjectById } from "@/server/db/queries/pipeline";
import type { IngestResult } from "@/server/events/append";
import { logError } from "@/server/http/log";
import { type ProjectLeftovers, tearDownProject } from "@/server/operations/teardown-project";
import type { Platform } from "@/server/platform/platform";
import { carryOn } from "../pipeline/carry-on";
import type { PipelineDeps } from "../pipeline/run-revision";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";
import { wakeRevision } from "../pipeline/wake-revision";

// The request that starts work answers at once; the work runs after the response, in this server process.

/** After the response: `work` with the pipeline wired for the revision's project. */
function afterWithDeps(
  platform: Platform,
  what: string,
  revisionId: string,
  work: (deps: PipelineDeps, revisionId: string) => Promise<void>,
): void {
  after(async () => {
    try {
      const revision = await findRevisionById(platform.db, revisionId);
      if (!revision) return;
      const project = await getProjectById(platform.db, revision.project_id);
      await work(await platform.pipelineDeps(project), revisionId);
    } catch (error) {
      logError(`${what} ${revisionId}`, error);
    }
  });
}

/** Carries a revision on (carry-on.ts) after the current response is sent. */
function afterCarryOn(platform: Platform, what: string, revisionId: string): void {
  after(async () => {
    try {
      await carryOn(platform.carryOnDeps(), revisionId);
    } catch (error) {
      logError(`${what} ${revisionId}`, error);
    }
  });
}

/** Runs a queued revision's pipeline after the current response is sent. */
export function scheduleRevision(platform: Platform, revisionId: string): void {
  afterCarryOn(platform, "pipeline", revisionId);
}

/** Wakes a checkpoint's sleeping preview after the current response is sent. */
export function scheduleWake(platform: Platform, revisionId: string): void {
  afterWithDeps(platform, "waking", revisionId, wakeRevision);
}

/**
 * Applies a stored webhook batch after the webhook has answered. Whichever app server holds the revision's lease
 * applies its events in order; this one takes it if it is free.
 */
export function scheduleRunnerEvents(platform: Platform, result: IngestResult): Promise<void> {
  afterCarryOn(platform, "runner events", result.revisionId);
  return Promise.resolve();
}

/** Stops a cancelled revision's sandbox after the response (the run is over; its processes must go). */
export function scheduleSandboxStop(platform: Platform, revisionId: string): void {
  after(async () => {
    try {
      await stopRevisionSandbox(platform.runnerEventDeps(), revisionId);
    } catch (error) {
      logError(`stopping the sandbox of ${revisionId}`, error);
    }
  });
}

/** Removes a deleted project's outside resources after the response (its rows are already gone). */
export function scheduleProjectTeardown(platform: Platform, leftovers: ProjectLeftovers): void {
  after(async () => {
    try {
      const failures = await tearDownProject(await platform.providersFor(leftovers.project), leftovers);
      if (failures.length > 0)
        console.warn(`[kiln] project ${leftovers.project.id}: left behind ${failures.join(", ")}`);
    } catch (error) {
      logError(`tearing down project ${leftovers.project.id}`, error);
    }
  });
}
