import type { Executor } from "@/server/db/connection";
import { findTaskOfUser } from "@/server/db/queries/tasks";
import { AppError } from "@/server/errors";
import { eventStreamResponse, parseCursor } from "@/server/events/stream";

/** The operator's live view of one of their tasks: its events over SSE from a cursor (docs/pipeline.md). */
export async function openTaskEventStream(
  db: Executor,
  userId: string,
  request: {
    projectId: string;
    taskId: string;
    lastEventId: string | null;
    after: string | null;
    signal: AbortSignal;
  },
): Promise<Response> {
  const task = await findTaskOfUser(db, userId, request.projectId, request.taskId);
  if (!task) throw new AppError("not_found:task");
  const afterCursor = parseCursor(request.lastEventId, request.after);
  if (afterCursor === null) {
    throw new AppError(
      "bad_request:input",
      "The cursor (Last-Event-ID or ?after=) must be a non-negative integer.",
    );
  }
  return eventStreamResponse({ db, taskId: task.id, afterCursor, signal: request.signal });
}
