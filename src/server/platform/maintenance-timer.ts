import type { Env } from "@/server/config/env-schema";
import { claimJobTurn } from "@/server/leases/job-lease";
import { announceServer, forgetGoneServers } from "@/server/leases/server-presence";
import { pruneAllProjects } from "../maintenance/branch-retention";
import { sleepIdleSandboxes } from "../maintenance/idle-sandboxes";
import { reconcileSilentRevisions } from "../maintenance/reconciler";
import { revisionsToRecover } from "../maintenance/recover-revisions";
import { failUnreachableRunners } from "../maintenance/unreachable-runners";
import { carryOn, needsCarryOn } from "../pipeline/carry-on";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";
import { type Platform, platformFor } from "./platform";

// Every app server runs these timers; the database decides which one does each periodic job per tick, so a job
// runs once per cluster (docs/pipeline.md "Durability"):
// - every 3 s this server says it is alive (a sandbox that dies with its server is gone once that stops);
// - every 2 s one server looks for revisions no live server carries on, and carries them on;
// - every minute one server does the housekeeping: silent builds, idle previews, old branches.

const PRESENCE_MS = 3_000;
const PRESENCE_TTL_MS = 10_000;
const RECOVERY_MS = 2_000;
const HOUSEKEEPING_MS = 60_000;
/** A queued revision is normally started by the request that made it; after this, any server starts it. */
const QUEUED_GRACE_MS = 5_000;

const holder = globalThis as typeof globalThis & { __kilnMaintenance?: NodeJS.Timeout[] };
const running = new Set<string>();
let passes = 0;

/** Runs one task; a failure is logged and never stops the others or the timers. */
async function attempt(what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    // A database that is briefly unreachable must not stop the timers; the next tick tries again.
    console.error(`[kiln] maintenance: ${what} failed:`, error instanceof Error ? error.message : error);
  }
}

/** Runs `work` unless its previous run on this server is still going (a slow pass must not overlap the next). */
async function once(name: string, work: () => Promise<void>): Promise<void> {
  if (running.has(name)) return;
  running.add(name);
  try {
    await attempt(name, work);
  } finally {
    running.delete(name);
  }
}

async function recover(env: Env, platform: Platform): Promise<void> {
  const { db } = platform;
  if (!(await claimJobTurn(db, "recover", platform.serverId, RECOVERY_MS))) return;
  await attempt("failing builds whose sandbox cannot reach Kiln", async () => {
    const failed = await failUnreachableRunners(platform.runnerEventDeps(), {
      publicUrl: env.KILN_PUBLIC_URL,
    });
    if (failed.length > 0)
      console.warn(
        `[kiln] ${failed.length} build(s) could not reach Kiln at ${env.KILN_PUBLIC_URL}: ${failed.join(", ")}`,
      );
  });
  const now = Date.now();
  const ids = await revisionsToRecover(
    db,
    (revision) => needsCarryOn(db, revision, { now, queuedGraceMs: QUEUED_GRACE_MS }),
    now,
  );
  // Each in the background: one long recovery (a new sandbox, a deploy) must not hold up the others.
  for (const id of ids) {
    void carryOn(platform.carryOnDeps(), id)
      .then((carried) => {
        if (carried) console.warn(`[kiln] carried on build ${id} on this server (${platform.serverId})`);
      })
      .catch((error: unknown) => console.error(`[kiln] carrying on ${id} failed:`, error));
  }
}

async function housekeeping(env: Env, platform: Platform): Promise<void> {
  const { db } = platform;
  if (!(await claimJobTurn(db, "housekeeping", platform.serverId, HOUSEKEEPING_MS))) return;
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
  // Sleep first: an awake preview keeps its branch from being pruned.
  await attempt("putting idle previews to sleep", async () => {
    await sleepIdleSandboxes(platform.runnerEventDeps(), { idleMs: env.KILN_SANDBOX_IDLE_MINUTES * 60_000 });
  });
  await attempt("pruning old database branches", async () => {
    await pruneAllProjects(platform.runnerEventDeps(), env.KILN_BRANCH_RETENTION);
  });
  await attempt("forgetting stopped servers", () => forgetGoneServers(db, Date.now() - 24 * 3_600_000));
}

function every(ms: number, work: () => Promise<void>): NodeJS.Timeout {
  const timer = setInterval(() => void work(), ms);
  timer.unref();
  return timer;
}

/**
 * Starts the maintenance timers once per process. The first housekeeping pass comes shortly after boot; it logs
 * once, so an operator (and the e2e tier, which waits for it) knows maintenance runs on this server.
 */
export function startReconciler(env: Env): void {
  if (holder.__kilnMaintenance) return;
  const platform = () => platformFor(env);
  const presence = () =>
    once("presence", async () => {
      const { db, serverId } = await platform();
      await announceServer(db, serverId, PRESENCE_TTL_MS);
    });
  void presence();
  holder.__kilnMaintenance = [
    every(PRESENCE_MS, presence),
    every(RECOVERY_MS, () => once("recovery", async () => recover(env, await platform()))),
    every(HOUSEKEEPING_MS, () => once("housekeeping", async () => housekeeping(env, await platform()))),
  ];
  setTimeout(
    () =>
      void once("housekeeping", async () => {
        await housekeeping(env, await platform());
        if (passes++ === 0) console.log("[kiln] reconciler: first pass done; next passes every minute");
      }),
    5_000,
  ).unref();
}
