import { findRevisionById } from "@/server/db/queries/pipeline";
import { AppError } from "@/server/errors";
import { logError } from "@/server/http/log";
import { ProviderError } from "@/server/integrations/provider-error";
import { DEPLOY_LEASE_TTL_MS, releaseDeployLease, renewDeployLease } from "@/server/leases/deploy-lease";
import { emit, type RunScope, reasonOf } from "./run-step";
import { type DeployContext, deployRevision } from "./steps/deploy";

// The operator's redeploy of a finished checkpoint (POST /api/v1/revisions/:id/deploy): a new deployment of its
// commit with its own database branch, by the same deploy step the pipeline runs (steps/deploy.ts). The revision
// stays finished whatever happens; its events say how the redeploy went, and its deployment's state and log say why.

export type RedeployDeps = Omit<DeployContext, "onAlive">;

function progress(scope: RunScope, message: string): Promise<void> {
  return emit(scope, { type: "progress", payload: { message: message.slice(0, 1_900) } });
}

/**
 * Redeploys the checkpoint under the deploy lease its request took (revisions/redeploy-request.ts), renewing it
 * while the deployment builds and releasing it at the end. Never throws for a failed deploy.
 */
export async function redeployRevision(
  deps: RedeployDeps,
  revisionId: string,
  leaseOwner: string,
): Promise<void> {
  try {
    const revision = await findRevisionById(deps.db, revisionId);
    if (revision?.status !== "finished") return;
    const scope: RunScope = {
      db: deps.db,
      projectId: revision.project_id,
      taskId: revision.task_id,
      revisionId,
    };
    await progress(scope, `Redeploying checkpoint ${revision.ordinal}…`);
    try {
      const url = await deployRevision(
        {
          ...deps,
          onAlive: () => renewDeployLease(deps.db, revisionId, leaseOwner, DEPLOY_LEASE_TTL_MS),
        },
        revisionId,
        { redeploy: true },
      );
      await progress(scope, `Redeployed: ${url}`);
    } catch (error) {
      if (!(error instanceof ProviderError || error instanceof AppError))
        logError(`redeploying ${revisionId}`, error);
      await progress(scope, `The redeploy failed: ${reasonOf(error)}`);
    }
  } finally {
    await releaseDeployLease(deps.db, revisionId, leaseOwner);
  }
}
