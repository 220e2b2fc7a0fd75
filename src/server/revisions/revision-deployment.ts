import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { Database } from "@/server/db/connection";
import { findDbBranch, getProjectById } from "@/server/db/queries/pipeline";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import type { Project, Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { decryptBranchConnection } from "@/server/integrations/database-branches/branch-connection";
import { secretsOfEnv } from "@/server/integrations/deployer/deployment-log";
import type { Deployer } from "@/server/integrations/deployer/port";
import { isDeployLeaseHeld } from "@/server/leases/deploy-lease";
import { type PreviewOrigins, publicPreviewUrl } from "@/server/previews/preview-origin";
import type { RevisionDeployment } from "./revision-deployment-types";

/**
 * The values a deployment's log must never show that Kiln knows of: the checkpoint's DATABASE_URL, if any, and the
 * project's secret variables (the local deployer also redacted the deployment's own env values as it wrote the log).
 */
async function deploymentSecretsOf(
  ctx: { db: Database; key: Buffer },
  revision: Revision,
): Promise<string[]> {
  const { secrets } = await appEnvForRun(ctx.db, ctx.key, revision.project_id);
  const row = revision.db_branch_id ? await findDbBranch(ctx.db, revision.db_branch_id) : undefined;
  if (!row?.connection_ciphertext) return secrets;
  const connection = decryptBranchConnection(ctx.key, row.id, row.connection_ciphertext);
  return [...secretsOfEnv({ DATABASE_URL: connection.databaseUrl }), ...secrets];
}

/**
 * A checkpoint's deployment as its Deployer knows it now: state, public URL, error and build/start log. The operator
 * must own the checkpoint (else not found). The checkpoint's DATABASE_URL is redacted from the log here too, for
 * logs an adapter reads from its vendor.
 */
export async function describeRevisionDeployment(
  ctx: { db: Database; key: Buffer; origins: PreviewOrigins },
  userId: string,
  revisionId: string,
  deployerFor: (project: Project) => Promise<Deployer>,
): Promise<RevisionDeployment> {
  const revision = await findRevisionOfUser(ctx.db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  const redeploying = await isDeployLeaseHeld(ctx.db, revision.id);
  const none: RevisionDeployment = {
    id: null,
    state: "none",
    url: null,
    error: null,
    redeploying,
    log: { lines: [], truncated: false },
  };
  if (!revision.deployment_id) return none;
  const deployer = await deployerFor(await getProjectById(ctx.db, revision.project_id));
  const deployment = await deployer.getDeployment(revision.deployment_id);
  if (!deployment) return none;
  const log = await deployer.deploymentLog(deployment.id, {
    secrets: await deploymentSecretsOf(ctx, revision),
  });
  return {
    id: deployment.id,
    state: deployment.state,
    url:
      deployment.state === "ready"
        ? publicPreviewUrl(ctx.origins, { kind: "deploy", revisionId: revision.id }, deployment.url)
        : null,
    error: deployment.errorMessage,
    redeploying,
    log: log ?? { lines: [], truncated: false },
  };
}
