import type { Database } from "@/server/db/connection";
import { findRevisionById, hasNewerDeployment, updateRevisionRow } from "@/server/db/queries/pipeline";
import type { Deployer } from "@/server/integrations/deployer/port";

/**
 * A checkpoint that stopped being published gives up the deployment it kept only for its stable URL: when a newer
 * checkpoint of its task has a deployment of its own, the Deployer retires it, as the deploy step would have
 * (steps/deploy.ts); the task's newest deployment stays.
 */
export async function retireUnpublished(db: Database, deployer: Deployer, revisionId: string): Promise<void> {
  const revision = await findRevisionById(db, revisionId);
  if (!revision?.deployment_id) return;
  if (!(await hasNewerDeployment(db, revision.task_id, revision.ordinal))) return;
  if (!(await deployer.retireReplaced(revision.deployment_id))) return;
  await updateRevisionRow(db, revision.id, { deployment_id: null, deploy_url: null, updated_at: Date.now() });
}
