import "server-only";
import { AppError } from "@/server/errors";
import type { Platform } from "@/server/platform/platform";
import { deleteProject } from "../projects/project-queries";
import { scheduleProjectTeardown } from "./schedule";
import { findProjectLeftovers } from "./teardown-project";

/**
 * Deletes the operator's project: its rows now (the answer can say it is gone), then, after the response, what it
 * holds outside the database (sandboxes, deployments, database branches, a local repository, blobs).
 */
export async function startProjectDeletion(
  platform: Platform,
  userId: string,
  projectId: string,
): Promise<void> {
  const { db } = platform;
  const leftovers = await findProjectLeftovers(db, userId, projectId);
  if (!leftovers) throw new AppError("not_found:project");
  await deleteProject(db, userId, projectId);
  scheduleProjectTeardown(platform, leftovers);
}
