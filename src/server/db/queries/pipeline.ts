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

/**
 * Names the project unless its name is no longer `expected` (what the run read when it loaded): an operator who
 * renamed it meanwhile keeps their name.
 */
export async function nameProjectUnlessRenamed(
  db: Executor,
  projectId: string,
  expected: string,
  name: string,
  now: number,
) {
  await db
    .updateTable("project")
    .set({ name, updated_at: now })
    .where("id", "=", projectId)
    .where("name", "=", expected)
    .execute();
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

/** The task's other checkpoints that still hold a deployment (local ones keep a server running). */
export async function findDeployedRevisions(db: Executor, taskId: string, exceptRevisionId: string) {
  return db
    .selectFrom("revision")
    .select(["id", "deployment_id"])
    .where("task_id", "=", taskId)
    .where("id", "!=", exceptRevisionId)
    .where("deployment_id", "is not", null)
    .execute();
}

/**
 * Sandboxes left running with nothing to do: not stopped, no activity (last event, update, creation) since
 * `idleSince`, and no running revision using them. A sandbox no revision points at (a wake that crashed before it
 * recorded itself) counts as well: nothing else would ever stop it.
 */
export async function findIdleSandboxes(
  db: Executor,
  runningStatuses: readonly string[],
  idleSince: number,
  limit = 100,
): Promise<SandboxRow[]> {
  return db
    .selectFrom("sandbox")
    .selectAll("sandbox")
    .where("sandbox.stopped_at", "is", null)
    .where("sandbox.created_at", "<", idleSince)
    .where("sandbox.updated_at", "<", idleSince)
    .where((eb) =>
      eb.or([eb("sandbox.last_event_at", "is", null), eb("sandbox.last_event_at", "<", idleSince)]),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("revision")
            .select("revision.id")
            .whereRef("revision.sandbox_id", "=", "sandbox.id")
            .where("revision.status", "in", [...runningStatuses]),
        ),
      ),
    )
    .orderBy("sandbox.updated_at", "asc")
    .limit(limit)
    .execute();
}

/** Records a sandbox as stopped; false when someone else already did. */
export async function markSandboxStopped(db: Executor, sandboxId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("sandbox")
    .set({ status: "stopped", stopped_at: now, updated_at: now })
    .where("id", "=", sandboxId)
    .where("stopped_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Every checkpoint of a project with what retention must know of its branch, sandbox and deployment. */
export async function listCheckpointBranches(db: Executor, projectId: string) {
  return db
    .selectFrom("revision")
    .leftJoin("db_branch", "db_branch.id", "revision.db_branch_id")
    .leftJoin("sandbox", "sandbox.id", "revision.sandbox_id")
    .select([
      "revision.id",
      "revision.task_id",
      "revision.ordinal",
      "revision.status",
      "revision.commit_sha",
      "revision.parent_revision_id",
      "revision.deployment_id",
      "db_branch.id as branch_id",
      "db_branch.external_id as branch_external_id",
      "db_branch.parent_branch_id as branch_parent_id",
      "db_branch.deleted_at as branch_deleted_at",
      "sandbox.id as sandbox_row_id",
      "sandbox.stopped_at as sandbox_stopped_at",
    ])
    .where("revision.project_id", "=", projectId)
    .orderBy("revision.task_id")
    .orderBy("revision.ordinal", "desc")
    .execute();
}

export async function updateDbBranchRow(db: Executor, branchId: string, change: Updateable<DB["db_branch"]>) {
  await db.updateTable("db_branch").set(change).where("id", "=", branchId).execute();
}

/** One page of projects that have a database root, in id order (keyset: pass the last id of the previous page). */
export async function listProjectsWithDatabase(
  db: Executor,
  afterId: string | null,
  limit: number,
): Promise<Selectable<DB["project"]>[]> {
  let query = db.selectFrom("project").selectAll().where("db_root_id", "is not", null);
  if (afterId !== null) query = query.where("id", ">", afterId);
  return query.orderBy("id").limit(limit).execute();
}

/** The project's checkpoints that hold a stored build, with whether their database branch was deleted. */
export async function listStoredBuildsOfProject(db: Executor, projectId: string) {
  return db
    .selectFrom("revision")
    .leftJoin("db_branch", "db_branch.id", "revision.db_branch_id")
    .select(["revision.id", "revision.build_key", "db_branch.deleted_at as branch_deleted_at"])
    .where("revision.project_id", "=", projectId)
    .where("revision.build_key", "is not", null)
    .execute();
}

/** Forgets the given stored builds on every checkpoint of the project that names one. */
export async function clearBuildKeys(db: Executor, projectId: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .updateTable("revision")
    .set({ build_key: null })
    .where("project_id", "=", projectId)
    .where("build_key", "in", keys)
    .execute();
}

/** The project's published checkpoint, if any: its deployment outlives newer ones (steps/deploy.ts). */
export async function findPublishedRevisionId(db: Executor, projectId: string): Promise<string | null> {
  const row = await db
    .selectFrom("project")
    .select("published_revision_id")
    .where("id", "=", projectId)
    .executeTakeFirst();
  return row?.published_revision_id ?? null;
}

/** Whether a later checkpoint of the task has a deployment of its own, i.e. this one's was kept only while published. */
export async function hasNewerDeployment(db: Executor, taskId: string, ordinal: number): Promise<boolean> {
  const row = await db
    .selectFrom("revision")
    .select("id")
    .where("task_id", "=", taskId)
    .where("ordinal", ">", ordinal)
    .where("deployment_id", "is not", null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
