import type { Database, Executor } from "@/server/db/connection";
import { deleteProjectOfUser, findProjectOfUser, listProjectsOfUser } from "@/server/db/queries/projects";
import { listTasksOfProject } from "@/server/db/queries/tasks";
import { AppError } from "@/server/errors";
import { type ProjectSummaryDto, type TaskDto, toProjectSummaryDto, toTaskDto } from "./project-dto";

/** The operator's projects, most recently active first; `nameContains` keeps those whose name contains it. */
export async function listProjects(
  db: Executor,
  userId: string,
  filter: { nameContains?: string } = {},
): Promise<ProjectSummaryDto[]> {
  const rows = await listProjectsOfUser(db, userId, filter);
  return rows.map(toProjectSummaryDto);
}

/**
 * The operator's project, as its dashboard card sees it (status, totals), with its tasks. Someone else's project is
 * NOT_FOUND, exactly like a missing one.
 */
export async function getProjectOrThrow(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<{ project: ProjectSummaryDto; tasks: TaskDto[] }> {
  const [row] = await listProjectsOfUser(db, userId, { projectId });
  if (!row) throw new AppError("not_found:project");
  return { project: toProjectSummaryDto(row), tasks: await listTaskDtos(db, userId, projectId) };
}

/** The tasks of the operator's project, the main task first. Someone else's project is NOT_FOUND. */
export async function listProjectTasksOrThrow(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<TaskDto[]> {
  if (!(await findProjectOfUser(db, userId, projectId))) throw new AppError("not_found:project");
  return listTaskDtos(db, userId, projectId);
}

async function listTaskDtos(db: Executor, userId: string, projectId: string): Promise<TaskDto[]> {
  // Ordered main task first (listTasksOfProject).
  return (await listTasksOfProject(db, userId, projectId)).map((row, index) => toTaskDto(row, index === 0));
}

/**
 * Removes the project's records. What it holds outside the database is torn down separately (startProjectDeletion
 * reads it first, then tearDownProject removes it after the response).
 */
export async function deleteProject(db: Database, userId: string, projectId: string): Promise<void> {
  const deleted = await db.transaction().execute((tx) => deleteProjectOfUser(tx, userId, projectId));
  if (!deleted) throw new AppError("not_found:project");
}
