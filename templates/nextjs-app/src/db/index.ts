import "server-only";
import { type AppDatabase, createDatabase } from "./create-database";
import { checkDatabase, type DatabaseHealth } from "./health";
import type { Database } from "./schema";

export type { Database } from "./schema";

// One instance per server process. `next dev` re-evaluates modules on every edit; keeping the instance on
// globalThis stops each reload from opening another connection pool.
const globalForDb = globalThis as typeof globalThis & { __appDatabase?: AppDatabase<Database> };
const appDatabase = globalForDb.__appDatabase ?? createDatabase<Database>(process.env.DATABASE_URL);
globalForDb.__appDatabase = appDatabase;

/**
 * The app's database (Kysely, typed by `Database` in ./schema.ts). Import it in server code only: server
 * components, server actions, route handlers.
 *
 *   const rows = await db.selectFrom("app_meta").selectAll().execute();
 */
export const db = appDatabase.db;

/** "mysql" (MySQL, MariaDB, TiDB) or "sqlite" (libSQL), from DATABASE_URL; `null` when it is not configured. */
export const dbKind = appDatabase.kind;

/** A human name for the database in use, e.g. "SQLite (libSQL)". */
export const dbLabel = appDatabase.label;

/** Whether the database answers within `timeoutMs`; never throws, never reveals a secret. */
export function getDatabaseHealth(timeoutMs = 2_000): Promise<DatabaseHealth> {
  return checkDatabase(db, process.env.DATABASE_URL, timeoutMs);
}
