import type { Executor } from "@/server/db/connection";
import { findMainTask, listFinishedCheckpointsOfProject } from "@/server/db/queries/tasks";
import type { TaskStartPoint } from "./task-types";

/**
 * Where a new task of the operator's project can start: every finished checkpoint with its code and data, the main
 * task's newest first (the default). Empty for another operator's project.
 */
export async function listTaskStartPoints(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<TaskStartPoint[]> {
  const [rows, main] = await Promise.all([
    listFinishedCheckpointsOfProject(db, userId, projectId),
    findMainTask(db, projectId),
  ]);
  return rows.map((row) => ({
    revisionId: row.id,
    ordinal: row.ordinal,
    taskId: row.task_id,
    taskTitle: row.task_title,
    branch: row.task_branch,
    isMainTask: row.task_id === main?.id,
    prompt: row.prompt,
  }));
}
