import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import type { Session } from "../schema";

// Reads behind a share link (public: the slug is the only proof, so no ownership filter, but a revoked link reads
// as missing) and the operator's management of their links (ownership in the query).

/** A live share link with what the public page needs, plus the identifiers it must scrub from what it sends. */
export type PublicSessionRow = {
  session_id: string;
  slug: string;
  task_id: string;
  project_id: string;
  title: string;
  user_id: string;
  user_email: string;
};

export async function findPublicSessionBySlug(
  db: Executor,
  slug: string,
): Promise<PublicSessionRow | undefined> {
  return db
    .selectFrom("session")
    .innerJoin("task", "task.id", "session.task_id")
    .innerJoin("project", "project.id", "session.project_id")
    .innerJoin("user", "user.id", "project.user_id")
    .select([
      "session.id as session_id",
      "session.slug",
      "session.task_id",
      "session.project_id",
      "task.title",
      "user.id as user_id",
      "user.email as user_email",
    ])
    .where("session.slug", "=", slug)
    .where("session.revoked_at", "is", null)
    .executeTakeFirst();
}

/** The checkpoints (revisions) of a task in ordinal order, with whether their preview's sandbox was stopped. */
export async function listCheckpointRowsOfTask(db: Executor, taskId: string) {
  return db
    .selectFrom("revision")
    .leftJoin("sandbox", "sandbox.id", "revision.sandbox_id")
    .select([
      "revision.id",
      "revision.ordinal",
      "revision.kind",
      "revision.prompt",
      "revision.status",
      "revision.step",
      "revision.error_message",
      "revision.commit_sha",
      "revision.preview_url",
      "revision.deploy_url",
      "revision.screenshot_key",
      "revision.created_at",
      "revision.finished_at",
      "sandbox.stopped_at as sandbox_stopped_at",
    ])
    .where("revision.task_id", "=", taskId)
    .orderBy("revision.ordinal", "asc")
    .execute();
}
export type CheckpointRow = Awaited<ReturnType<typeof listCheckpointRowsOfTask>>[number];

/** One checkpoint of a task by ordinal, for its screenshot. */
export async function findCheckpointOfTask(db: Executor, taskId: string, ordinal: number) {
  return db
    .selectFrom("revision")
    .select(["id", "project_id", "screenshot_key"])
    .where("task_id", "=", taskId)
    .where("ordinal", "=", ordinal)
    .executeTakeFirst();
}

/**
 * Internal ids of a project's resources (sandboxes, database branches) that could surface in command output or
 * log lines (a sandbox knows its own id). Bounded: a project has at most a few per checkpoint.
 */
export async function listResourceIdsOfProject(db: Executor, projectId: string): Promise<string[]> {
  const [sandboxes, branches] = await Promise.all([
    db.selectFrom("sandbox").select("id").where("project_id", "=", projectId).limit(5_000).execute(),
    db.selectFrom("db_branch").select("id").where("project_id", "=", projectId).limit(5_000).execute(),
  ]);
  return [...sandboxes, ...branches].map((row) => row.id);
}

/** The share link of one of the operator's tasks; another operator's task reads as missing. */
export async function findShareSessionOfUserTask(
  db: Executor,
  userId: string,
  taskId: string,
): Promise<Session | undefined> {
  return db
    .selectFrom("session")
    .innerJoin("project", "project.id", "session.project_id")
    .selectAll("session")
    .where("session.task_id", "=", taskId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
}

/** Revokes (a time) or restores (null) the share link of one of the operator's tasks; false when not theirs. */
export async function setShareSessionRevokedOfUserTask(
  db: Executor,
  userId: string,
  taskId: string,
  revokedAt: number | null,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("session")
    .set({ revoked_at: revokedAt, updated_at: now })
    .where("task_id", "=", taskId)
    .where("project_id", "in", (eb) =>
      eb
        .selectFrom("project")
        .select("project.id")
        .where((inner) => projectOwnedBy(inner, userId)),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The newest cursor of a task's events, leaving out the given types (those a public viewer never receives). */
export async function maxEventCursorOfTask(
  db: Executor,
  taskId: string,
  exceptTypes: readonly string[],
): Promise<number> {
  let query = db.selectFrom("event").select("id").where("task_id", "=", taskId);
  if (exceptTypes.length > 0) query = query.where("type", "not in", [...exceptTypes]);
  // Newest first on the (task_id, id) index: stops at the first row that is not left out.
  const row = await query.orderBy("id", "desc").limit(1).executeTakeFirst();
  return row ? Number(row.id) : 0;
}

export async function insertShareSession(db: Executor, session: Session): Promise<void> {
  await db.insertInto("session").values(session).execute();
}

export async function findShareSessionOfTask(db: Executor, taskId: string): Promise<Session | undefined> {
  return db.selectFrom("session").selectAll().where("task_id", "=", taskId).executeTakeFirst();
}
