import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";
import { projectOwnedBy } from "../predicates";
import type { AppEnvRow } from "../schema";

/** The project's variables, by name. No ownership check: for the pipeline, which already holds the project. */
export async function listAppEnvRows(db: Executor, projectId: string): Promise<AppEnvRow[]> {
  return db.selectFrom("app_env").selectAll().where("project_id", "=", projectId).orderBy("name").execute();
}

/**
 * Whether the operator owns the project; on MySQL the project row stays locked until the transaction ends, so two
 * writes to one project's variables take turns (the count and size caps are checked against what is committed).
 */
export async function lockProjectOfUser(db: Executor, userId: string, projectId: string): Promise<boolean> {
  const query = db
    .selectFrom("project")
    .select("project.id")
    .where("project.id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId));
  const row = await (isMysqlExecutor(db) ? query.forUpdate() : query).executeTakeFirst();
  return row !== undefined;
}

/** One variable per project and name: a write replaces the previous value and flag. */
export async function upsertAppEnvRow(db: Executor, row: AppEnvRow): Promise<void> {
  const changes = {
    is_secret: row.is_secret,
    value_ciphertext: row.value_ciphertext,
    updated_at: row.updated_at,
  };
  if (isMysqlExecutor(db)) {
    await db.insertInto("app_env").values(row).onDuplicateKeyUpdate(changes).execute();
    return;
  }
  await db
    .insertInto("app_env")
    .values(row)
    .onConflict((oc) => oc.columns(["project_id", "name"]).doUpdateSet(changes))
    .execute();
}

/** Deletes the variable of a project the operator owns; false when there is none (or the project is not theirs). */
export async function deleteAppEnvRowOfUser(
  db: Executor,
  userId: string,
  projectId: string,
  name: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("app_env")
    .where("project_id", "=", projectId)
    .where("name", "=", name)
    .where("project_id", "in", (eb) =>
      eb
        .selectFrom("project")
        .select("project.id")
        .where("project.id", "=", projectId)
        .where((p) => projectOwnedBy(p, userId)),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
