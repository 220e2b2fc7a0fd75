import type { Env } from "@/server/config/env-schema";
import { resolveDatabaseTarget } from "@/server/db/connection";
import { sharedDatabase } from "@/server/db/shared-database";
import { type Platform, wirePlatform } from "./wire-platform";

export type { Platform };

// The composition root: the one place the platform's dependencies are built from the environment. Routes, server
// actions and the maintenance timer (which starts from instrumentation, outside the React server graph, so this
// module is plain) share one instance per process. It lives on globalThis because Next bundles this module more
// than once (instrumentation, routes, actions).
const holder = globalThis as typeof globalThis & { __kilnPlatform?: Promise<Platform> };

export function platformFor(env: Env): Promise<Platform> {
  holder.__kilnPlatform ??= sharedDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir))
    .then((db) => wirePlatform(env, db))
    .catch((error: unknown) => {
      // A database that was briefly unreachable must not be remembered: the next call tries again.
      holder.__kilnPlatform = undefined;
      throw error;
    });
  return holder.__kilnPlatform;
}
