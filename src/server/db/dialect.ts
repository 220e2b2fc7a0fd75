import { MysqlAdapter } from "kysely";
import type { Executor } from "./connection";

/** The one place queries ask which dialect they run on (upserts are the only divergence). */
export function isMysqlExecutor(db: Executor): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

/** True for a unique-key violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error ? String(error.code) : "";
  // Only unique and primary keys: a NOT NULL or CHECK failure is a bug, not a race to report as a conflict.
  return (
    code === "ER_DUP_ENTRY" ||
    code === "SQLITE_CONSTRAINT_UNIQUE" ||
    code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    /UNIQUE constraint failed|Duplicate entry/i.test(error.message)
  );
}
