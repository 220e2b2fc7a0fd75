import { findProjectOfUser, setProjectPublicationOfUser } from "@/server/db/queries/projects";
import { AppError } from "@/server/errors";
import { ProviderError } from "@/server/integrations/provider-error";
import { publicationAlias } from "./publication-alias";
import type { PublicationContext } from "./publish-project";
import { retireUnpublished } from "./retire-unpublished";

/**
 * Stops serving the operator's project at its stable URL (the local host answers "This app is not published"; the
 * Vercel alias is removed). Idempotent: an unpublished project stays so. The checkpoint that was published gives up
 * the deployment it kept when a newer one has its own.
 */
export async function unpublishProject(
  ctx: PublicationContext,
  userId: string,
  projectId: string,
): Promise<void> {
  const project = await findProjectOfUser(ctx.db, userId, projectId);
  if (!project) throw new AppError("not_found:project");
  const former = project.published_revision_id;
  if (!former) return;
  const deployer = await ctx.deployerFor(project);
  try {
    await deployer.unpublish(publicationAlias(project));
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    throw new AppError("unavailable:deployer", `Unpublishing failed: ${error.message}`, { cause: error });
  }
  if (!(await setProjectPublicationOfUser(ctx.db, userId, project.id, null))) {
    throw new AppError("not_found:project");
  }
  await retireUnpublished(ctx.db, deployer, former);
}
