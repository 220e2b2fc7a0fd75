"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createTaskInputSchema } from "@/server/operations/create-task";
import { startRestore } from "@/server/operations/start-restore";
import { startTask } from "@/server/operations/start-task";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { authedAction } from "./safe-action";

// Tasks of a project: the same domain calls as the REST API (POST /api/v1/projects/:id/tasks, and
// POST /api/v1/revisions/:id/restore with a taskId for a promote).

const id = z.string().min(1).max(40);

export const startTaskAction = authedAction(
  "startTask",
  createTaskInputSchema.extend({ projectId: id }),
  async (input, { operator, platform }) => {
    const created = await startTask(platform, operator.id, input);
    revalidatePath(`/projects/${input.projectId}`);
    return { projectId: input.projectId, taskId: created.task.id, branch: created.task.branch };
  },
);

/** Restores a task's checkpoint onto another task of the project (the main task): a promote. */
export const promoteCheckpointAction = authedAction(
  "promoteCheckpoint",
  z.object({ revisionId: id, taskId: id }),
  async ({ revisionId, taskId }, { operator, platform }): Promise<RevisionDto> =>
    startRestore(platform, operator.id, revisionId, taskId),
);
