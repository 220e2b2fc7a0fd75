import type { ExpressionBuilder } from "kysely";
import type { DB } from "./schema";

/** Ownership filter for any query that has `project` in scope. Tenant reads and writes all go through it. */
export function projectOwnedBy(eb: ExpressionBuilder<DB, "project">, userId: string) {
  return eb("project.user_id", "=", userId);
}
