import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import {
  findDbBranch,
  getProjectById,
  markSandboxStopped,
  updateRevisionRow,
  updateSandboxRow,
} from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import {
  decryptBranchConnection,
  tcpEndpointsOf,
} from "@/server/integrations/database-branches/branch-connection";
import { unpackTarball } from "@/server/integrations/sandboxes/unpack-tarball";
import { repoRefOf } from "@/server/projects/project-resources";
import { startBuiltServer, startDevServer } from "@/server/templates/dev-server";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import { waitForHealthyPreview } from "./steps/preview";
import { type ProvisionContext, startRevisionSandbox } from "./steps/provision";

const PREVIEW_HEALTH_TIMEOUT_MS = 60_000;

/**
 * A new sandbox holding the revision's commit, its app served on the revision's own database branch, healthy, and
 * the revision pointed at it. Used to wake a sleeping checkpoint and to bring a preview back after its app server
 * died. The revision's stored build (its own tree's verified `next build`: docs/pipeline.md "Build output") is
 * served with `next start`, which answers in about a second; a revision without one gets a dev server, which
 * compiles for many. Nothing is left running on failure.
 */
export async function startPreviewAtCommit(
  deps: ProvisionContext,
  revision: Revision,
  target: { commitSha: string; dbBranchId: string },
): Promise<void> {
  const branch = await findDbBranch(deps.db, target.dbBranchId);
  if (!branch?.connection_ciphertext || branch.deleted_at !== null) {
    throw new AppError("conflict:branch_pruned", "Its database branch was removed by retention.");
  }
  const connection = decryptBranchConnection(deps.key, branch.id, branch.connection_ciphertext);
  const project = await getProjectById(deps.db, revision.project_id);
  const repo = repoRefOf(project);
  if (!repo) throw new AppError("conflict:revision_state", "The project has no repository to wake it from.");
  const cache = await ensureTemplateCache({
    templateDir: deps.templateDir,
    cacheRoot: deps.templateCacheRoot,
  });
  // Recorded before the dev server starts, so a crash from here on leaves a row idle cleanup can stop.
  const { sandbox, sandboxRowId } = await startRevisionSandbox(deps, {
    project,
    revision,
    cache,
    repo,
    syncTo: target.commitSha,
    hostPaths: connection.hostPaths,
    tcpEndpoints: tcpEndpointsOf(connection.databaseUrl),
  });
  try {
    const { env: appEnv } = await appEnvForRun(deps.db, deps.key, project.id);
    const env = { ...appEnv, DATABASE_URL: connection.databaseUrl };
    const build = revision.build_key ? await deps.providers.blob.get(revision.build_key) : null;
    if (build) await unpackTarball(sandbox, build.body, "the checkpoint's verified build");
    const server = build ? await startBuiltServer(sandbox, { env }) : await startDevServer(sandbox, { env });
    await waitForHealthyPreview(server.url, PREVIEW_HEALTH_TIMEOUT_MS);
    const ready = Date.now();
    await updateSandboxRow(deps.db, sandboxRowId, { preview_url: server.url, updated_at: ready });
    await updateRevisionRow(deps.db, revision.id, {
      sandbox_id: sandboxRowId,
      preview_url: server.url,
      updated_at: ready,
    });
  } catch (error) {
    try {
      await sandbox.stop();
    } finally {
      await markSandboxStopped(deps.db, sandboxRowId, Date.now());
    }
    throw error;
  }
}
