"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createProjectInputSchema } from "@/server/projects/create-project";
import { startProject, startProjectDeletion } from "@/server/projects/start-project";
import { authedAction } from "./safe-action";

export const createProjectAction = authedAction(
  "createProject",
  createProjectInputSchema,
  async (input, { operator, db }) => {
    const created = await startProject(db, operator.id, input);
    revalidatePath("/projects");
    return { projectId: created.project.id, taskId: created.task.id };
  },
);

export const deleteProjectAction = authedAction(
  "deleteProject",
  z.object({ projectId: z.string().min(1).max(40) }),
  async ({ projectId }, { operator, db }) => {
    await startProjectDeletion(db, operator.id, projectId);
    revalidatePath("/projects");
    return null;
  },
);
