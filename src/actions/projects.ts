"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createProjectInputSchema } from "@/server/operations/create-project";
import { startProjectDeletion } from "@/server/operations/delete-project";
import { startProject } from "@/server/operations/start-project";
import { renameProject, renameProjectInputSchema } from "@/server/projects/rename-project";
import { projectBudgetSchema, updateProject } from "@/server/projects/update-project";
import { authedAction } from "./safe-action";

export const createProjectAction = authedAction(
  "createProject",
  createProjectInputSchema,
  async (input, { operator, platform }) => {
    const created = await startProject(platform, operator.id, input);
    revalidatePath("/projects");
    return { projectId: created.project.id, taskId: created.task.id };
  },
);

export const deleteProjectAction = authedAction(
  "deleteProject",
  z.object({ projectId: z.string().min(1).max(40) }),
  async ({ projectId }, { operator, platform }) => {
    await startProjectDeletion(platform, operator.id, projectId);
    revalidatePath("/projects");
    return null;
  },
);

export const renameProjectAction = authedAction(
  "renameProject",
  renameProjectInputSchema.extend({ projectId: z.string().min(1).max(40) }),
  async ({ projectId, name }, { operator, db }) => {
    const renamed = await renameProject(db, operator.id, projectId, name);
    // The dashboard, the project page and its workspaces all show the name.
    revalidatePath("/projects", "layout");
    return renamed;
  },
);

export const setProjectBudgetAction = authedAction(
  "setProjectBudget",
  projectBudgetSchema.extend({ projectId: z.string().min(1).max(40) }).strict(),
  async ({ projectId, budgetTokens, budgetUsd }, { operator, db }) => {
    await updateProject(db, operator.id, projectId, { budgetTokens, budgetUsd });
    revalidatePath(`/projects/${projectId}`);
    return null;
  },
);
