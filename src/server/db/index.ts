import "server-only";
import { env } from "@/env";
import { type Database, resolveDatabaseTarget } from "./connection";
import { sharedDatabase } from "./shared-database";

export type { Database, Executor } from "./connection";

export function getDb(): Promise<Database> {
  return sharedDatabase(resolveDatabaseTarget(env.DATABASE_URL, env.dataDir));
}
