import "server-only";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { assertNotPaused } from "@/server/governance/pause-state";
import type { Platform } from "@/server/platform/platform";
import { type CreatedTask, type CreateTaskInput, createTask } from "./create-task";
import { scheduleRevision } from "./schedule";

/** A new task from a finished checkpoint: its first checkpoint is built after the response, like a follow-up. */
export async function startTask(
  platform: Platform,
  userId: string,
  input: { projectId: string } & CreateTaskInput,
): Promise<CreatedTask> {
  assertNotPaused(await platform.pause.current());
  const created = await createTask(
    platform.db,
    platform.previewOrigins,
    userId,
    input,
    { defaultRetention: platform.branchRetention },
    Date.now(),
    (tx, now) => assertWithinQuota(tx, platform.quotas, userId, now),
  );
  scheduleRevision(platform, created.revision.id);
  return created;
}
