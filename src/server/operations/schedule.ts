import "server-only";
import { after } from "next/server";
import { findRevisionById, getProjectById } from "@/server/db/queries/pipeline";
import type { IngestResult } from "@/server/events/append";
import { logError } from "@/server/http/log";
import { releaseDeployLease } from "@/server/leases/deploy-lease";
import { type ProjectLeftovers, tearDownProject } from "@/server/operations/teardown-project";
import type { Platform } from "@/server/platform/platform";
import { carryOn } from "../pipeline/carry-on";
import { type RedeployDeps, redeployRevision } from "../pipeline/redeploy-revision";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";
import { wakeRevision } from "../pipeline/wake-revision";

// The request that starts work answers at once; the work runs after the response, in this server process.

/** Runs `work` after the response; a failure is logged, since nobody is waiting for it any more. */
function afterResponse(what: string, work: () => Promise<void>): void {
  after(async () => {
    try {
      await work();
    } catch (error) {
      logError(what, error);
    }
  });
}

/** Carries a revision on (carry-on.ts) after the current response is sent. */
function afterCarryOn(platform: Platform, what: string, revisionId: string): void {
  afterResponse(`${what} ${revisionId}`, async () => {
    await carryOn(platform.carryOnDeps(), revisionId);
  });
}

/** Runs a queued revision's pipeline after the current response is sent. */
export function scheduleRevision(platform: Platform, revisionId: string): void {
  afterCarryOn(platform, "pipeline", revisionId);
}

/** Wakes a checkpoint's sleeping preview after the current response is sent. */
export function scheduleWake(platform: Platform, revisionId: string): void {
  afterResponse(`waking ${revisionId}`, async () => {
    const revision = await findRevisionById(platform.db, revisionId);
    if (!revision) return;
    const project = await getProjectById(platform.db, revision.project_id);
    await wakeRevision(await platform.pipelineDeps(project), revisionId);
  });
}

/** Redeploys a finished checkpoint after the current response is sent, under the lease its request took. */
export function scheduleRedeploy(platform: Platform, revisionId: string, leaseOwner: string): void {
  afterResponse(`redeploying ${revisionId}`, async () => {
    let deps: RedeployDeps | undefined;
    try {
      const revision = await findRevisionById(platform.db, revisionId);
      if (!revision) return;
      const pipeline = await platform.pipelineDeps(await getProjectById(platform.db, revision.project_id));
      deps = {
        db: pipeline.db,
        key: pipeline.key,
        providers: pipeline.providers,
        deployTimeoutMs: pipeline.finish.deployTimeoutMs,
      };
    } finally {
      // The request's lease is handed to the redeploy, which releases it; without one it goes now, not at expiry.
      if (!deps) await releaseDeployLease(platform.db, revisionId, leaseOwner);
    }
    await redeployRevision(deps, revisionId, leaseOwner);
  });
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
  afterResponse(`stopping the sandbox of ${revisionId}`, async () => {
    await stopRevisionSandbox(platform.runnerEventDeps(), revisionId);
  });
}

/** Removes a deleted project's outside resources after the response (its rows are already gone). */
export function scheduleProjectTeardown(platform: Platform, leftovers: ProjectLeftovers): void {
  afterResponse(`tearing down project ${leftovers.project.id}`, async () => {
    const failures = await tearDownProject(await platform.providersFor(leftovers.project), leftovers);
    if (failures.length > 0)
      console.warn(`[kiln] project ${leftovers.project.id}: left behind ${failures.join(", ")}`);
  });
}
