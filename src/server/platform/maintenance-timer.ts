import type { Env } from "@/server/config/env-schema";
import { getProjectById } from "@/server/db/queries/pipeline";
import { pruneAllProjects } from "../maintenance/branch-retention";
import { sleepIdleSandboxes } from "../maintenance/idle-sandboxes";
import { reconcileSilentRevisions, resumeStrandedRevisions } from "../maintenance/reconciler";
import { runRevision } from "../pipeline/run-revision";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";
import { type Platform, platformFor } from "./platform";

const EVERY_MS = 60_000;
const holder = globalThis as typeof globalThis & { __kilnReconciler?: NodeJS.Timeout };
let ticking = false;
let passes = 0;

/** Runs one housekeeping task; a failure is logged and never stops the others or the timer. */
async function attempt(what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    // A database that is briefly unreachable must not stop the timer; the next tick tries again.
    console.error(`[kiln] reconciler: ${what} failed:`, error instanceof Error ? error.message : error);
  }
}

async function housekeeping(env: Env, platform: Platform): Promise<void> {
  const { db } = platform;
  await attempt("failing silent builds", async () => {
    const failed = await reconcileSilentRevisions(db);
    if (failed.length === 0) return;
    console.warn(`[kiln] reconciler failed ${failed.length} silent build(s): ${failed.join(", ")}`);
    // Their sandboxes cannot be resumed: free them.
    for (const revisionId of failed)
      await attempt(`stopping the sandbox of ${revisionId}`, async () => {
        await stopRevisionSandbox(platform.runnerEventDeps(), revisionId);
      });
  });
  await attempt("starting queued builds", async () => {
    const started = await resumeStrandedRevisions(db, async (revision) => {
      const project = await getProjectById(db, revision.project_id);
      await runRevision(await platform.pipelineDeps(project), revision.id);
    });
    if (started.length > 0) console.warn(`[kiln] reconciler started ${started.length} queued build(s)`);
  });
  // Sleep first: an awake preview keeps its branch from being pruned.
  await attempt("putting idle previews to sleep", async () => {
    await sleepIdleSandboxes(platform.runnerEventDeps(), { idleMs: env.KILN_SANDBOX_IDLE_MINUTES * 60_000 });
  });
  await attempt("pruning old database branches", async () => {
    await pruneAllProjects(platform.runnerEventDeps(), env.KILN_BRANCH_RETENTION);
  });
}

async function tick(env: Env): Promise<void> {
  // A slow pass (starting a queued build provisions it) must not overlap the next one.
  if (ticking) return;
  ticking = true;
  try {
    await housekeeping(env, await platformFor(env));
    // Said once, so an operator (and the e2e tier, which waits for it) knows housekeeping runs on this server.
    if (passes++ === 0) console.log("[kiln] reconciler: first pass done; next passes every minute");
  } catch (error) {
    console.error("[kiln] reconciler tick failed:", error instanceof Error ? error.message : error);
  } finally {
    ticking = false;
  }
}

/**
 * Starts the reconciler once per process: a first pass shortly after boot, then every minute. Each pass fails
 * builds whose sandbox went silent (and stops their sandboxes), starts builds a restart left queued, puts idle
 * previews to sleep and prunes database branches past the projects' retention.
 */
export function startReconciler(env: Env): void {
  if (holder.__kilnReconciler) return;
  setTimeout(() => void tick(env), 5_000).unref();
  holder.__kilnReconciler = setInterval(() => void tick(env), EVERY_MS);
  holder.__kilnReconciler.unref();
}
