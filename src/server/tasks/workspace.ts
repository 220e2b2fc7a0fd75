import type { Executor } from "@/server/db/connection";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { findMainTask, findTaskOfUser } from "@/server/db/queries/tasks";
import { AppError } from "@/server/errors";
import type { StoredEvent } from "@/server/events/schema";
import { readEventsAfter } from "@/server/events/stream";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { listTaskRevisions } from "@/server/revisions/revision-queries";
import type { RevisionDto } from "@/server/revisions/revision-types";

// Everything the operator's workspace shows when it opens: the task, its checkpoints, the whole event log so far
// (then the page follows live from `lastCursor`).

/** A page opened mid-run shows everything so far; past this many events it shows the newest (and says so). */
const MAX_BACKLOG = 20_000;

export type WorkspaceDto = {
  project: { id: string; name: string; slug: string };
  task: { id: string; title: string; branch: string };
  /** The project's main task: a promote restores this task's checkpoints onto it. */
  mainTaskId: string;
  revisions: RevisionDto[];
  events: StoredEvent[];
  /** Where the live stream continues from. */
  lastCursor: number;
  /** True when older events were left out of `events`. */
  truncated: boolean;
};

export async function getWorkspace(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<WorkspaceDto> {
  const task = await findTaskOfUser(db, userId, projectId, taskId);
  if (!task) throw new AppError("not_found:task");
  const [project, revisions, main] = await Promise.all([
    findProjectOfUser(db, userId, projectId),
    listTaskRevisions(db, origins, userId, projectId, taskId),
    findMainTask(db, projectId),
  ]);
  if (!project) throw new AppError("not_found:project");
  let events: StoredEvent[] = [];
  let cursor = 0;
  let truncated = false;
  for (;;) {
    const page = await readEventsAfter(db, { taskId, afterCursor: cursor });
    events = events.concat(page.events);
    cursor = page.nextCursor;
    if (events.length > MAX_BACKLOG) {
      events = events.slice(-MAX_BACKLOG);
      truncated = true;
    }
    if (!page.hasMore) break;
  }
  return {
    project: { id: project.id, name: project.name, slug: project.slug },
    task: { id: task.id, title: task.title, branch: task.branch },
    mainTaskId: main?.id ?? task.id,
    revisions,
    events,
    lastCursor: cursor,
    truncated,
  };
}
