"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createProjectInputSchema } from "@/server/operations/create-project";
import { startProjectDeletion } from "@/server/operations/delete-project";
import { publish } from "@/server/operations/publish-project";
import { startProject } from "@/server/operations/start-project";
import { unpublish } from "@/server/operations/unpublish-project";
import { renameProject, renameProjectInputSchema } from "@/server/projects/rename-project";
import { projectBudgetSchema, updateProject } from "@/server/projects/update-project";
import { type PublishedDto, publishInputSchema } from "@/server/publishing/publication-types";
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

const projectRef = z.object({ projectId: z.string().min(1).max(40) });

export const publishProjectAction = authedAction(
  "publishProject",
  publishInputSchema.extend(projectRef.shape).strict(),
  async ({ projectId, ...input }, { operator, platform }): Promise<PublishedDto> => {
    const published = await publish(platform, operator.id, projectId, input);
    // The dashboard card, the project page and the workspace header show the stable URL.
    revalidatePath("/projects", "layout");
    return published;
  },
);

export const unpublishProjectAction = authedAction(
  "unpublishProject",
  projectRef.strict(),
  async ({ projectId }, { operator, platform }) => {
    await unpublish(platform, operator.id, projectId);
    revalidatePath("/projects", "layout");
    return null;
  },
);
