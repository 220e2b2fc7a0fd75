import type { Env } from "@/server/config/env-schema";
import { resolveDatabaseTarget } from "@/server/db/connection";
import { sharedDatabase } from "@/server/db/shared-database";
import { type Platform, wirePlatform } from "./wire-platform";

export type { Platform };

// The composition root: the one place the platform's dependencies are built from the environment, for routes,
// server actions, the maintenance timer (which starts from instrumentation, outside the React server graph, so this
// module is plain) and Kiln's HTTP front. Built once per copy of this module: Next bundles it more than once
// (instrumentation, the routes), and an object built by one copy fails the other copy's `instanceof` checks
// (AppError, ProviderError), so copies never share one. What must be one per process is: the database pool
// (db/shared-database.ts) and this server's id (wire-platform.ts).
let platform: Promise<Platform> | undefined;

export function platformFor(env: Env): Promise<Platform> {
  platform ??= sharedDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir))
    .then((db) => wirePlatform(env, db))
    .catch((error: unknown) => {
      // A database that was briefly unreachable must not be remembered: the next call tries again.
      platform = undefined;
      throw error;
    });
  return platform;
}
