import { type ExpressionBuilder, sql } from "kysely";
import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import type { DB, NewProject, Project } from "../schema";

/**
 * A revision's terminal statuses. Must stay in sync with `terminalStatuses` in revisions/state-machine.ts: the db
 * layer sits below revisions, so the list is repeated here, and tests/unit/card-status.test.ts keeps them equal.
 */
export const endedRevisionStatuses = ["finished", "failed", "cancelled"] as const;

export type ProjectListRow = Project & {
  latest_revision_status: string | null;
  /** The newest checkpoint still running (queued included), if any. */
  running_revision_status: string | null;
  /** The newest checkpoint that ended (finished, failed or cancelled), if any. */
  last_ended_revision_status: string | null;
  /** Whether any checkpoint finished: then a working version of the app exists. */
  has_finished_revision: boolean;
  /** The project's first task, where its workspace lives. */
  main_task_id: string | null;
  task_count: number;
  /** The newest checkpoint that has a screenshot. */
  latest_screenshot_revision_id: string | null;
  /** The published checkpoint's ordinal, when one is published. */
  published_ordinal: number | null;
  /** The main task's newest finished checkpoint with a deployment: what Publish (or Update) serves. */
  publishable_revision_id: string | null;
  publishable_ordinal: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd_micros: number;
};

export async function insertProject(db: Executor, project: NewProject): Promise<void> {
  await db.insertInto("project").values(project).execute();
}

export async function isProjectSlugTaken(db: Executor, userId: string, slug: string): Promise<boolean> {
  const row = await db
    .selectFrom("project")
    .select("id")
    .where("user_id", "=", userId)
    .where("slug", "=", slug)
    .executeTakeFirst();
  return row !== undefined;
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern escaped with `!`. */
function containsPattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (char) => `!${char}`)}%`;
}

/** The main task's newest finished checkpoint that has a deployment (what Publish serves by default). */
function newestPublishable(eb: ExpressionBuilder<DB, "project">) {
  return eb
    .selectFrom("revision")
    .whereRef("revision.project_id", "=", "project.id")
    .where("revision.status", "=", "finished")
    .where("revision.deploy_url", "is not", null)
    .where("revision.task_id", "=", (inner) =>
      inner
        .selectFrom("task")
        .select("task.id")
        .whereRef("task.project_id", "=", "project.id")
        .orderBy("task.created_at", "asc")
        .orderBy("task.id", "asc")
        .limit(1),
    )
    .orderBy("revision.ordinal", "desc")
    .limit(1);
}

/** The status of the project's newest checkpoint: of all, of those still running, or of those that ended. */
function newestRevisionStatus(eb: ExpressionBuilder<DB, "project">, among: "all" | "running" | "ended") {
  return eb
    .selectFrom("revision")
    .select("revision.status")
    .whereRef("revision.project_id", "=", "project.id")
    .$if(among === "running", (query) => query.where("revision.status", "not in", endedRevisionStatuses))
    .$if(among === "ended", (query) => query.where("revision.status", "in", endedRevisionStatuses))
    .orderBy("revision.created_at", "desc")
    .orderBy("revision.ordinal", "desc")
    .limit(1);
}

export async function listProjectsOfUser(
  db: Executor,
  userId: string,
  filter: { nameContains?: string; projectId?: string } = {},
): Promise<ProjectListRow[]> {
  let query = db
    .selectFrom("project")
    .selectAll("project")
    .select((eb) => [
      newestRevisionStatus(eb, "all").as("latest_revision_status"),
      newestRevisionStatus(eb, "running").as("running_revision_status"),
      newestRevisionStatus(eb, "ended").as("last_ended_revision_status"),
      eb
        .selectFrom("revision")
        .select("revision.id")
        .whereRef("revision.project_id", "=", "project.id")
        .where("revision.status", "=", "finished")
        .limit(1)
        .as("finished_revision_id"),
      eb
        .selectFrom("task")
        .select("task.id")
        .whereRef("task.project_id", "=", "project.id")
        .orderBy("task.created_at", "asc")
        .orderBy("task.id", "asc")
        .limit(1)
        .as("main_task_id"),
      eb
        .selectFrom("task")
        .select((inner) => inner.fn.countAll<number>().as("n"))
        .whereRef("task.project_id", "=", "project.id")
        .as("task_count"),
      eb
        .selectFrom("revision")
        .select("revision.id")
        .whereRef("revision.project_id", "=", "project.id")
        .where("revision.screenshot_key", "is not", null)
        .orderBy("revision.created_at", "desc")
        .orderBy("revision.ordinal", "desc")
        .limit(1)
        .as("latest_screenshot_revision_id"),
      eb
        .selectFrom("revision")
        .select("revision.ordinal")
        .whereRef("revision.id", "=", "project.published_revision_id")
        .as("published_ordinal"),
      newestPublishable(eb).select("revision.id").as("publishable_revision_id"),
      newestPublishable(eb).select("revision.ordinal").as("publishable_ordinal"),
      // Usage totals over every checkpoint (the gateway keeps each revision's running sums).
      eb
        .selectFrom("revision")
        .select((inner) => inner.fn.sum<number>("revision.input_tokens").as("n"))
        .whereRef("revision.project_id", "=", "project.id")
        .as("input_tokens"),
      eb
        .selectFrom("revision")
        .select((inner) => inner.fn.sum<number>("revision.output_tokens").as("n"))
        .whereRef("revision.project_id", "=", "project.id")
        .as("output_tokens"),
      eb
        .selectFrom("revision")
        .select((inner) => inner.fn.sum<number>("revision.cost_usd_micros").as("n"))
        .whereRef("revision.project_id", "=", "project.id")
        .as("cost_usd_micros"),
    ])
    .where((eb) => projectOwnedBy(eb, userId));
  if (filter.projectId !== undefined) query = query.where("project.id", "=", filter.projectId);
  const nameContains = filter.nameContains?.trim();
  if (nameContains) {
    // The database's lower() on both sides: case-insensitive whatever the column's collation (MySQL) or LIKE's
    // defaults (SQLite), and both sides folded alike (SQLite folds only ASCII).
    query = query.where(
      sql<boolean>`lower(${sql.ref("project.name")}) like lower(${containsPattern(nameContains)}) escape '!'`,
    );
  }
  const rows = await query.orderBy("project.last_activity_at", "desc").orderBy("project.id").execute();
  return rows.map(({ finished_revision_id, ...row }) => ({
    ...row,
    running_revision_status: row.running_revision_status ?? null,
    last_ended_revision_status: row.last_ended_revision_status ?? null,
    has_finished_revision: finished_revision_id != null,
    main_task_id: row.main_task_id ?? null,
    task_count: Number(row.task_count ?? 0),
    latest_screenshot_revision_id: row.latest_screenshot_revision_id ?? null,
    published_ordinal: row.published_ordinal == null ? null : Number(row.published_ordinal),
    publishable_revision_id: row.publishable_revision_id ?? null,
    publishable_ordinal: row.publishable_ordinal == null ? null : Number(row.publishable_ordinal),
    // SUM is NULL over no rows, and a DECIMAL string on MySQL.
    input_tokens: Number(row.input_tokens ?? 0),
    output_tokens: Number(row.output_tokens ?? 0),
    cost_usd_micros: Number(row.cost_usd_micros ?? 0),
  }));
}

export async function findProjectOfUser(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<Project | undefined> {
  return db
    .selectFrom("project")
    .selectAll("project")
    .where("project.id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
}

/** Renames the operator's project; false when it is not theirs (or does not exist). */
export async function renameProjectOfUser(
  db: Executor,
  userId: string,
  projectId: string,
  name: string,
  now: number,
): Promise<boolean> {
  await db
    .updateTable("project")
    .set({ name, updated_at: now })
    .where("project.id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .execute();
  // Affected-row counts differ between drivers (MySQL may count only changed rows), so ask again.
  return (await findProjectOfUser(db, userId, projectId)) !== undefined;
}

/**
 * Deletes the operator's project and every row that hangs off it, children first so no foreign key is
 * ever violated. Call inside a transaction. Returns false when the project is not theirs (or does not exist).
 */
export async function deleteProjectOfUser(db: Executor, userId: string, projectId: string): Promise<boolean> {
  const project = await findProjectOfUser(db, userId, projectId);
  if (!project) return false;
  await db.deleteFrom("usage").where("project_id", "=", projectId).execute();
  await db.deleteFrom("event").where("project_id", "=", projectId).execute();
  await db.deleteFrom("session").where("project_id", "=", projectId).execute();
  await db.deleteFrom("revision").where("project_id", "=", projectId).execute();
  await db.deleteFrom("sandbox").where("project_id", "=", projectId).execute();
  await db.deleteFrom("db_branch").where("project_id", "=", projectId).execute();
  await db.deleteFrom("task").where("project_id", "=", projectId).execute();
  await db.deleteFrom("app_env").where("project_id", "=", projectId).execute();
  await db.deleteFrom("project").where("id", "=", projectId).where("user_id", "=", userId).execute();
  return true;
}

/** What a project holds outside the database, read before its rows go (sandboxes, deployments, checkpoints). */
export async function listProjectOutsideIds(db: Executor, projectId: string) {
  const [sandboxes, revisions] = await Promise.all([
    db
      .selectFrom("sandbox")
      .select("external_id")
      .where("project_id", "=", projectId)
      .where("stopped_at", "is", null)
      .execute(),
    db.selectFrom("revision").select(["id", "deployment_id"]).where("project_id", "=", projectId).execute(),
  ]);
  return {
    sandboxIds: sandboxes.flatMap((row) => (row.external_id ? [row.external_id] : [])),
    revisionIds: revisions.map((row) => row.id),
    deploymentIds: revisions.flatMap((row) => (row.deployment_id ? [row.deployment_id] : [])),
  };
}

export type Publication = { revisionId: string; url: string; at: number };

/**
 * Sets (or, with null, clears) which checkpoint the operator's project serves at its stable URL; false when the
 * project is not theirs (or does not exist).
 */
export async function setProjectPublicationOfUser(
  db: Executor,
  userId: string,
  projectId: string,
  publication: Publication | null,
): Promise<boolean> {
  await db
    .updateTable("project")
    .set({
      published_revision_id: publication?.revisionId ?? null,
      published_url: publication?.url ?? null,
      published_at: publication?.at ?? null,
    })
    .where("project.id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .execute();
  // Affected-row counts differ between drivers (MySQL may count only changed rows), so ask again.
  return (await findProjectOfUser(db, userId, projectId)) !== undefined;
}
