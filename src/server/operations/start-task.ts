import "server-only";
import type { Platform } from "@/server/platform/platform";
import { admitAgentWork } from "./admit-agent-work";
import { type CreatedTask, type CreateTaskInput, createTask } from "./create-task";
import { scheduleRevision } from "./schedule";

/** A new task from a finished checkpoint: its first checkpoint is built after the response, like a follow-up. */
export async function startTask(
  platform: Platform,
  userId: string,
  input: { projectId: string } & CreateTaskInput,
): Promise<CreatedTask> {
  const guard = await admitAgentWork(platform, userId);
  const created = await createTask(
    platform.db,
    platform.previewOrigins,
    userId,
    input,
    { defaultRetention: platform.branchRetention },
    Date.now(),
    guard,
  );
  scheduleRevision(platform, created.revision.id);
  return created;
}
