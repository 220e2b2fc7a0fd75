import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import type { Task } from "../schema";

export type TaskListRow = Task & {
  revision_count: number;
  latest_revision_status: string | null;
  latest_prompt: string | null;
  latest_error: string | null;
};

export async function insertTask(db: Executor, task: Task): Promise<void> {
  await db.insertInto("task").values(task).execute();
}

export async function listTasksOfProject(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<TaskListRow[]> {
  const rows = await db
    .selectFrom("task")
    .innerJoin("project", "project.id", "task.project_id")
    .selectAll("task")
    .select((eb) => [
      eb
        .selectFrom("revision")
        .select((inner) => inner.fn.countAll<number>().as("n"))
        .whereRef("revision.task_id", "=", "task.id")
        .as("revision_count"),
      eb
        .selectFrom("revision")
        .select("revision.status")
        .whereRef("revision.task_id", "=", "task.id")
        .orderBy("revision.ordinal", "desc")
        .limit(1)
        .as("latest_revision_status"),
      eb
        .selectFrom("revision")
        .select("revision.prompt")
        .whereRef("revision.task_id", "=", "task.id")
        .orderBy("revision.ordinal", "desc")
        .limit(1)
        .as("latest_prompt"),
      eb
        .selectFrom("revision")
        .select("revision.error_message")
        .whereRef("revision.task_id", "=", "task.id")
        .orderBy("revision.ordinal", "desc")
        .limit(1)
        .as("latest_error"),
    ])
    .where("task.project_id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    // The main task (the project's first) leads; the others follow in the order they were started.
    .orderBy("task.created_at", "asc")
    .orderBy("task.id", "asc")
    .execute();
  return rows.map((row) => ({ ...row, revision_count: Number(row.revision_count ?? 0) }));
}

/** One task of one of the operator's projects; undefined when either is not theirs. */
export async function findTaskOfUser(
  db: Executor,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<Task | undefined> {
  return db
    .selectFrom("task")
    .innerJoin("project", "project.id", "task.project_id")
    .selectAll("task")
    .where("task.id", "=", taskId)
    .where("task.project_id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
}

/** The project's main task: its first, the one the project was created with. */
export async function findMainTask(db: Executor, projectId: string): Promise<Task | undefined> {
  return db
    .selectFrom("task")
    .selectAll()
    .where("project_id", "=", projectId)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .limit(1)
    .executeTakeFirst();
}

/** The git branch names the project's tasks already use. */
export async function listTaskBranches(db: Executor, projectId: string): Promise<string[]> {
  const rows = await db.selectFrom("task").select("branch").where("project_id", "=", projectId).execute();
  return rows.map((row) => row.branch);
}

/**
 * The finished checkpoints of the operator's project that still have their commit and database branch (a task can
 * start from each), by task (oldest task first), newest checkpoint first.
 */
export async function listFinishedCheckpointsOfProject(db: Executor, userId: string, projectId: string) {
  return db
    .selectFrom("revision")
    .innerJoin("task", "task.id", "revision.task_id")
    .innerJoin("project", "project.id", "revision.project_id")
    .leftJoin("db_branch", "db_branch.id", "revision.db_branch_id")
    .select([
      "revision.id",
      "revision.ordinal",
      "revision.prompt",
      "task.id as task_id",
      "task.title as task_title",
      "task.branch as task_branch",
      "task.created_at as task_created_at",
    ])
    .where("revision.project_id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .where("revision.status", "=", "finished")
    .where("revision.commit_sha", "is not", null)
    .where("revision.db_branch_id", "is not", null)
    .where("db_branch.deleted_at", "is", null)
    .orderBy("task.created_at", "asc")
    .orderBy("task.id", "asc")
    .orderBy("revision.ordinal", "desc")
    .execute();
}
