import fs from "node:fs/promises";
import path from "node:path";
import type { Database } from "@/server/db/connection";
import {
  findDbBranch,
  findDeployedRevisions,
  getProjectById,
  getRevisionById,
  getTaskById,
  updateRevisionRow,
} from "@/server/db/queries/pipeline";
import type { Project, Revision } from "@/server/db/schema";
import type { DeployInput } from "@/server/integrations/deployer/port";
import type { RepoRef } from "@/server/integrations/git-host/port";
import { ProviderError } from "@/server/integrations/provider-error";
import type { Providers } from "@/server/integrations/registry";
import { linkTree } from "@/server/integrations/sandboxes/local-files";
import { repoRefOf } from "@/server/projects/project-resources";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import { decryptBranchConnection, tcpEndpointsOf } from "./provision";

// Deploy: a finished checkpoint's commit, built and served by the project's Deployer with the checkpoint's own
// database branch. Vercel builds the pushed commit from GitHub; the local deployer gets the commit's files, with the
// warm template's node_modules hard-linked in when the lockfile is the template's (else it runs `npm ci`). Only the
// newest local deployment of a task keeps running: each one is a server of its own.

export type DeployContext = {
  db: Database;
  key: Buffer;
  providers: Providers;
  templateDir: string;
  templateCacheRoot: string;
  /** Where local deploy sources are staged: on the template cache's filesystem, so hard links work. */
  stagingRoot: string;
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

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
    throw error;
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([readIfExists(a), readIfExists(b)]);
  return left !== null && right !== null && left.equals(right);
}

/** The commit's files in a directory of their own, with installed dependencies when the template's fit. */
async function stageSource(
  ctx: DeployContext,
  repo: RepoRef,
  sha: string,
  revisionId: string,
): Promise<string> {
  await fs.mkdir(ctx.stagingRoot, { recursive: true });
  const dir = await fs.mkdtemp(path.join(ctx.stagingRoot, `${revisionId}-`));
  await ctx.providers.git.exportTree(repo, sha, dir);
  const cache = await ensureTemplateCache({ templateDir: ctx.templateDir, cacheRoot: ctx.templateCacheRoot });
  if (await sameFile(path.join(dir, "package-lock.json"), path.join(cache.dir, "package-lock.json"))) {
    await linkTree(path.join(cache.dir, "node_modules"), path.join(dir, "node_modules"));
  }
  return dir;
}

function sourceFor(
  ctx: DeployContext,
  repo: RepoRef,
  branch: string,
  sha: string,
  staged: string | null,
): DeployInput["source"] {
  if (ctx.providers.deployer.kind === "local") {
    if (!staged) throw new Error("a local deploy needs its staged source");
    return { kind: "directory", path: staged };
  }
  if (repo.host !== "github") {
    throw new ProviderError(
      "vercel",
      "invalid",
      "Vercel deploys build from GitHub, but this project's code is in a local repository: choose GitHub for its code or the local deployer.",
    );
  }
  return { kind: "git", repoFullName: repo.fullName, ref: branch, sha };
}

/** Local deployments a newer one replaces are stopped; Vercel's stay (immutable, and cheap to keep). */
async function retireOlderDeployments(ctx: DeployContext, taskId: string, revisionId: string): Promise<void> {
  if (ctx.providers.deployer.kind !== "local") return;
  for (const older of await findDeployedRevisions(ctx.db, taskId, revisionId)) {
    if (older.deployment_id) await ctx.providers.deployer.remove(older.deployment_id);
    await updateRevisionRow(ctx.db, older.id, {
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

/** Deploys the revision's commit and records the URL. Throws a ProviderError with a readable reason on failure. */
export async function deployRevision(ctx: DeployContext, revisionId: string): Promise<string> {
  const revision = await getRevisionById(ctx.db, revisionId);
  if (revision.deploy_url) return revision.deploy_url;
  if (!revision.commit_sha)
    throw new ProviderError("local-deploy", "invalid", "The checkpoint has no commit to deploy.");
  const [project, task] = await Promise.all([
    getProjectById(ctx.db, revision.project_id),
    getTaskById(ctx.db, revision.task_id),
  ]);
  const repo = projectRepo(project);
  const database = await databaseUrlOf(ctx, revision);
  const staged =
    ctx.providers.deployer.kind === "local"
      ? await stageSource(ctx, repo, revision.commit_sha, revision.id)
      : null;
  const alive = setInterval(() => void ctx.onAlive?.(), 20_000);
  try {
    const started = await ctx.providers.deployer.deploy({
      name: `${project.slug}-r${revision.ordinal}`,
      source: sourceFor(ctx, repo, task.branch, revision.commit_sha, staged),
      env: { DATABASE_URL: database.url },
      hostPaths: database.hostPaths,
      tcpEndpoints: tcpEndpointsOf(database.url),
    });
    await updateRevisionRow(ctx.db, revision.id, { deployment_id: started.id, updated_at: Date.now() });
    const done = await ctx.providers.deployer.waitForDeployment(started.id, {
      timeoutMs: ctx.deployTimeoutMs ?? 15 * 60_000,
    });
    if (done.state !== "ready" || !done.url) {
      throw new ProviderError(
        ctx.providers.deployer.kind === "local" ? "local-deploy" : "vercel",
        "invalid",
        `The deploy failed: ${done.errorMessage ?? `it ended ${done.state}`}`,
      );
    }
    await updateRevisionRow(ctx.db, revision.id, { deploy_url: done.url, updated_at: Date.now() });
    await retireOlderDeployments(ctx, task.id, revision.id);
    return done.url;
  } finally {
    clearInterval(alive);
    if (staged) await fs.rm(staged, { recursive: true, force: true });
  }
}
