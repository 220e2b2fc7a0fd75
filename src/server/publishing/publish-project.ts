import type { Database } from "@/server/db/connection";
import { findRevisionById } from "@/server/db/queries/pipeline";
import { findProjectOfUser, setProjectPublicationOfUser } from "@/server/db/queries/projects";
import { findNewestFinishedCheckpoint, findRevisionOfUser } from "@/server/db/queries/revisions";
import { findMainTask } from "@/server/db/queries/tasks";
import type { Project, Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import type { Deployer } from "@/server/integrations/deployer/port";
import { ProviderError } from "@/server/integrations/provider-error";
import { type PreviewOrigins, publishedAppUrl } from "@/server/previews/preview-origin";
import { publicationAlias } from "./publication-alias";
import type { PublishedDto, PublishInput } from "./publication-types";
import { retireUnpublished } from "./retire-unpublished";

export type PublicationContext = {
  db: Database;
  origins: PreviewOrigins;
  deployerFor(project: Project): Promise<Deployer>;
  now?: () => number;
};

async function checkpointToPublish(
  ctx: PublicationContext,
  userId: string,
  project: Project,
  input: PublishInput,
): Promise<Revision> {
  const mainTask = await findMainTask(ctx.db, project.id);
  if (input.revisionId) {
    const revision = await findRevisionOfUser(ctx.db, userId, input.revisionId);
    if (!revision || revision.project_id !== project.id) throw new AppError("not_found:revision");
    if (revision.task_id !== mainTask?.id) {
      throw new AppError(
        "conflict:revision_state",
        `Checkpoint ${revision.ordinal} belongs to another task: promote it to the main task, then publish.`,
      );
    }
    if (revision.status !== "finished") {
      throw new AppError(
        "conflict:revision_state",
        `Checkpoint ${revision.ordinal} is ${revision.status}: only a finished checkpoint can be published.`,
      );
    }
    return revision;
  }
  const newest = mainTask ? await findNewestFinishedCheckpoint(ctx.db, mainTask.id) : undefined;
  if (!newest) {
    throw new AppError(
      "conflict:revision_state",
      "Nothing to publish yet: no checkpoint of this project has finished.",
    );
  }
  return newest;
}

/**
 * Serves one finished checkpoint of the operator's project's main task (by default its newest) at the project's
 * stable URL. Its deployment must be ready: one that was retired or failed is a 409 that says to redeploy it first
 * (a redeploy takes minutes; the operator sees it happen and publishes when it is up). The checkpoint published
 * before, if another, gives up the deployment it kept when a newer one has its own (retire-unpublished.ts).
 */
export async function publishProject(
  ctx: PublicationContext,
  userId: string,
  projectId: string,
  input: PublishInput,
): Promise<PublishedDto> {
  const project = await findProjectOfUser(ctx.db, userId, projectId);
  if (!project) throw new AppError("not_found:project");
  const revision = await checkpointToPublish(ctx, userId, project, input);
  const notDeployed = new AppError(
    "conflict:not_deployed",
    `Checkpoint ${revision.ordinal} has no running deployment (it was retired or its deploy failed): redeploy it, then publish.`,
  );
  if (!revision.deployment_id || !revision.deploy_url) throw notDeployed;
  const deployer = await ctx.deployerFor(project);
  let url: string | null;
  try {
    const deployment = await deployer.getDeployment(revision.deployment_id);
    if (deployment?.state !== "ready") throw notDeployed;
    ({ url } = await deployer.publish(deployment.id, publicationAlias(project)));
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    throw new AppError("unavailable:deployer", `Publishing failed: ${error.message}`, { cause: error });
  }
  const publicUrl = url ?? publishedAppUrl(ctx.origins, project.id);
  if (!publicUrl) throw new AppError("internal:unexpected", `Project ${project.id} has no stable URL.`);
  const publishedAt = (ctx.now ?? Date.now)();
  const publication = { revisionId: revision.id, url: publicUrl, at: publishedAt };
  if (!(await setProjectPublicationOfUser(ctx.db, userId, project.id, publication))) {
    throw new AppError("not_found:project");
  }
  const former = project.published_revision_id;
  // A deploy of a newer checkpoint that read the old publication just before this write may have retired this
  // deployment meanwhile: then the publication goes back to what it was, and the answer says to redeploy.
  const after = await findRevisionById(ctx.db, revision.id);
  if (after?.deployment_id !== revision.deployment_id || !after?.deploy_url) {
    const previous =
      former && project.published_url
        ? { revisionId: former, url: project.published_url, at: Number(project.published_at ?? 0) }
        : null;
    await setProjectPublicationOfUser(ctx.db, userId, project.id, previous);
    throw notDeployed;
  }
  if (former && former !== revision.id) await retireUnpublished(ctx.db, deployer, former);
  return { url: publicUrl, revisionId: revision.id, ordinal: revision.ordinal, publishedAt };
}
