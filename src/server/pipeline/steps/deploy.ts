import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { Database } from "@/server/db/connection";
import {
  findDbBranch,
  findDeployedRevisions,
  findPublishedRevisionId,
  getProjectById,
  getRevisionById,
  getTaskById,
  updateRevisionRow,
} from "@/server/db/queries/pipeline";
import type { Project, Revision } from "@/server/db/schema";
import {
  decryptBranchConnection,
  tcpEndpointsOf,
} from "@/server/integrations/database-branches/branch-connection";
import type { Deployer } from "@/server/integrations/deployer/port";
import type { RepoRef } from "@/server/integrations/git-host/port";
import { ProviderError } from "@/server/integrations/provider-error";
import type { Providers } from "@/server/integrations/registry";
import { repoRefOf } from "@/server/projects/project-resources";
import { publicationAlias } from "@/server/publishing/publication-alias";

// Deploy: a finished checkpoint's commit, built and served by the project's Deployer with the checkpoint's own database
// branch; its verified build, when stored (build-output.ts), goes with it so the local deployer does not build the same
// tree again. How the commit reaches the build is the Deployer's business (deployer/port.ts), and so is which older
// deployments of the task a new one retires. A redeploy (the operator's, pipeline/redeploy-revision.ts) makes a new
// deployment of a checkpoint that has one: the old one serves until the new one has ended, ready or not, and is
// then retired: a checkpoint holds one deployment, its latest, whose state and log the operator reads.

export type DeployContext = {
  db: Database;
  key: Buffer;
  providers: Providers;
  /** Bound on the deployment becoming ready. Default 15 minutes. */
  deployTimeoutMs?: number;
  /** Called while the deployment builds, so the reconciler sees the run is alive. */
  onAlive?: () => Promise<void>;
};

async function databaseUrlOf(
  ctx: DeployContext,
  revision: Revision,
): Promise<{ url: string; hostPaths: string[] }> {
  const row = revision.db_branch_id ? await findDbBranch(ctx.db, revision.db_branch_id) : undefined;
  if (!row?.connection_ciphertext || row.deleted_at !== null) {
    throw new ProviderError(
      "local-deploy",
      "not_found",
      "The checkpoint's database branch is gone: it cannot be deployed.",
    );
  }
  const connection = decryptBranchConnection(ctx.key, row.id, row.connection_ciphertext);
  return { url: connection.databaseUrl, hostPaths: connection.hostPaths };
}

/**
 * The task's older deployments the Deployer retires once a newer one is ready stop being its deploy; the project's
 * published checkpoint keeps its deployment (its stable URL serves it) until another is published or it is
 * unpublished (projects/publication.ts retires it then).
 */
export async function retireReplacedDeployments(
  db: Database,
  deployer: Deployer,
  replacedBy: { projectId: string; taskId: string; revisionId: string },
): Promise<void> {
  const published = await findPublishedRevisionId(db, replacedBy.projectId);
  for (const older of await findDeployedRevisions(db, replacedBy.taskId, replacedBy.revisionId)) {
    if (older.id === published) continue;
    if (!older.deployment_id || !(await deployer.retireReplaced(older.deployment_id))) continue;
    await updateRevisionRow(db, older.id, {
      deployment_id: null,
      deploy_url: null,
      updated_at: Date.now(),
    });
  }
}

function projectRepo(project: Project): RepoRef {
  const repo = repoRefOf(project);
  if (!repo)
    throw new ProviderError("local-git", "internal", "The project has no repository to deploy from.");
  return repo;
}

/** The checkpoint's former deployment, replaced by a redeploy's new one (ready or not). */
async function retireFormer(ctx: DeployContext, formerId: string | null): Promise<void> {
  if (!formerId) return;
  await ctx.providers.deployer.retireReplaced(formerId);
}

/**
 * Deploys the revision's commit and records the URL. Throws a ProviderError with a readable reason on failure.
 * A revision already deployed keeps its deployment unless `redeploy` is set.
 */
export async function deployRevision(
  ctx: DeployContext,
  revisionId: string,
  options: { redeploy?: boolean } = {},
): Promise<string> {
  const revision = await getRevisionById(ctx.db, revisionId);
  if (revision.deploy_url && !options.redeploy) return revision.deploy_url;
  const former = options.redeploy ? revision.deployment_id : null;
  if (!revision.commit_sha)
    throw new ProviderError("local-deploy", "invalid", "The checkpoint has no commit to deploy.");
  const [project, task] = await Promise.all([
    getProjectById(ctx.db, revision.project_id),
    getTaskById(ctx.db, revision.task_id),
  ]);
  const repo = projectRepo(project);
  const sha = revision.commit_sha;
  const buildKey = revision.build_key;
  const database = await databaseUrlOf(ctx, revision);
  // The project's variables as they are now: a redeploy picks up what changed since the checkpoint ran.
  const { env: appEnv } = await appEnvForRun(ctx.db, ctx.key, project.id);
  const { deployer } = ctx.providers;
  const alive = setInterval(() => void ctx.onAlive?.(), 20_000);
  let started: { id: string } | null = null;
  try {
    started = await deployer.deployCommit({
      name: `${project.slug}-r${revision.ordinal}`,
      commit: {
        repo,
        branch: task.branch,
        sha,
        exportFiles: (destDir) => ctx.providers.git.exportTree(repo, sha, destDir),
      },
      env: { ...appEnv, DATABASE_URL: database.url },
      hostPaths: database.hostPaths,
      tcpEndpoints: tcpEndpointsOf(database.url),
      ...(buildKey ? { prebuilt: async () => (await ctx.providers.blob.get(buildKey))?.body ?? null } : {}),
    });
    await updateRevisionRow(ctx.db, revision.id, { deployment_id: started.id, updated_at: Date.now() });
    const done = await deployer.waitForDeployment(started.id, {
      timeoutMs: ctx.deployTimeoutMs ?? 15 * 60_000,
    });
    if (done.state !== "ready" || !done.url) {
      throw new ProviderError(
        deployer.vendor,
        "invalid",
        `The deploy failed: ${done.errorMessage ?? `it ended ${done.state}`}`,
      );
    }
    await updateRevisionRow(ctx.db, revision.id, { deploy_url: done.url, updated_at: Date.now() });
    // A redeploy of the published checkpoint takes the project's stable URL with it: on Vercel the alias names one
    // deployment (locally the stable host reads the checkpoint's deployment on each request). Before the former one
    // is retired, so the stable URL never points at a retired deployment.
    if (former && (await findPublishedRevisionId(ctx.db, project.id)) === revision.id)
      await deployer.publish(started.id, publicationAlias(project));
    await retireFormer(ctx, former);
    await retireReplacedDeployments(ctx.db, deployer, {
      projectId: project.id,
      taskId: task.id,
      revisionId: revision.id,
    });
    return done.url;
  } catch (error) {
    // A redeploy that started and failed is the checkpoint's deployment now (its error and log are what to read).
    if (former && started) {
      await updateRevisionRow(ctx.db, revision.id, { deploy_url: null, updated_at: Date.now() });
      await retireFormer(ctx, former);
    }
    throw error;
  } finally {
    clearInterval(alive);
  }
}
