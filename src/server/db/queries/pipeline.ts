import type { Insertable, Selectable, Updateable } from "kysely";
import type { Executor } from "../connection";
import type { DB } from "../schema";

// The pipeline's own reads and writes, by id. Entry points authorize (ownership in their queries) before any work
// starts; from then on the pipeline acts for the revision's owner and reaches rows only by ids it recorded itself.

export type DbBranchRow = Selectable<DB["db_branch"]>;
export type SandboxRow = Selectable<DB["sandbox"]>;

export async function updateProjectRow(db: Executor, projectId: string, change: Updateable<DB["project"]>) {
  await db.updateTable("project").set(change).where("id", "=", projectId).execute();
}

export async function updateRevisionRow(
  db: Executor,
  revisionId: string,
  change: Updateable<DB["revision"]>,
) {
  await db.updateTable("revision").set(change).where("id", "=", revisionId).execute();
}

export async function insertDbBranch(db: Executor, row: Insertable<DB["db_branch"]>): Promise<void> {
  await db.insertInto("db_branch").values(row).execute();
}

export async function findDbBranch(db: Executor, id: string): Promise<DbBranchRow | undefined> {
  return db.selectFrom("db_branch").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The project's main branch row (the root's own, which revision branches fork from when they have no parent). */
export async function findMainDbBranch(db: Executor, projectId: string): Promise<DbBranchRow | undefined> {
  return db
    .selectFrom("db_branch")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("parent_branch_id", "is", null)
    .where("deleted_at", "is", null)
    .orderBy("created_at", "asc")
    .executeTakeFirst();
}

export async function insertSandbox(db: Executor, row: Insertable<DB["sandbox"]>): Promise<void> {
  await db.insertInto("sandbox").values(row).execute();
}

export async function findSandboxRow(db: Executor, id: string): Promise<SandboxRow | undefined> {
  return db.selectFrom("sandbox").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findRevisionById(
  db: Executor,
  id: string,
): Promise<Selectable<DB["revision"]> | undefined> {
  return db.selectFrom("revision").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function getRevisionById(db: Executor, id: string): Promise<Selectable<DB["revision"]>> {
  return db.selectFrom("revision").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function getProjectById(db: Executor, id: string): Promise<Selectable<DB["project"]>> {
  return db.selectFrom("project").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function getTaskById(db: Executor, id: string): Promise<Selectable<DB["task"]>> {
  return db.selectFrom("task").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function updateTaskRow(db: Executor, taskId: string, change: Updateable<DB["task"]>) {
  await db.updateTable("task").set(change).where("id", "=", taskId).execute();
}

export async function updateSandboxRow(db: Executor, sandboxId: string, change: Updateable<DB["sandbox"]>) {
  await db.updateTable("sandbox").set(change).where("id", "=", sandboxId).execute();
}

/** The payload of the latest `agent.session` event of a revision (the session the agent ran in). */
export async function latestAgentSessionPayload(
  db: Executor,
  revisionId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("event")
    .select("payload")
    .where("revision_id", "=", revisionId)
    .where("type", "=", "agent.session")
    .orderBy("seq", "desc")
    .executeTakeFirst();
  return row?.payload;
}
