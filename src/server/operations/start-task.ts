import "server-only";
import type { Platform } from "@/server/platform/platform";
import { type CreatedTask, type CreateTaskInput, createTask } from "./create-task";
import { scheduleRevision } from "./schedule";

/** A new task from a finished checkpoint: its first checkpoint is built after the response, like a follow-up. */
export async function startTask(
  platform: Platform,
  userId: string,
  input: { projectId: string } & CreateTaskInput,
): Promise<CreatedTask> {
  const created = await createTask(platform.db, platform.previewOrigins, userId, input, {
    defaultRetention: platform.branchRetention,
  });
  scheduleRevision(platform, created.revision.id);
  return created;
}
