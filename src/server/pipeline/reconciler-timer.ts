import type { Env } from "@/server/config/env-schema";
import { resolveDatabaseTarget } from "@/server/db/connection";
import { sharedDatabase } from "@/server/db/shared-database";
import { reconcileSilentRevisions } from "./reconciler";

const EVERY_MS = 60_000;
const holder = globalThis as typeof globalThis & { __kilnReconciler?: NodeJS.Timeout };

async function tick(env: Env): Promise<void> {
  try {
    const db = await sharedDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir));
    const failed = await reconcileSilentRevisions(db);
    if (failed.length > 0)
      console.warn(`[kiln] reconciler failed ${failed.length} silent build(s): ${failed.join(", ")}`);
  } catch (error) {
    // A database that is briefly unreachable must not stop the timer; the next tick tries again.
    console.error("[kiln] reconciler tick failed:", error instanceof Error ? error.message : error);
  }
}

/** Starts the reconciler once per process: a first pass shortly after boot, then every minute. */
export function startReconciler(env: Env): void {
  if (holder.__kilnReconciler) return;
  setTimeout(() => void tick(env), 5_000).unref();
  holder.__kilnReconciler = setInterval(() => void tick(env), EVERY_MS);
  holder.__kilnReconciler.unref();
}
