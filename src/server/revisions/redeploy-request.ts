import { randomBytes } from "node:crypto";
import type { Executor } from "@/server/db/connection";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import { AppError } from "@/server/errors";
import { claimDeployLease, DEPLOY_LEASE_TTL_MS } from "@/server/leases/deploy-lease";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { assertBranchRetained, type RetentionContext } from "./assert-branch-retained";
import { toRevisionDto } from "./revision-dto";
import type { RevisionDto } from "./revision-types";

/**
 * Checks that the operator may redeploy this checkpoint now: theirs (else not found), finished with a commit and a
 * database branch retention kept, and no redeploy of it under way; then takes its deploy lease, which the redeploy
 * (pipeline/redeploy-revision.ts, after the response) renews and releases.
 */
export async function requestRedeploy(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
  retention: RetentionContext = {},
): Promise<{ revision: RevisionDto; leaseOwner: string }> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  if (revision.status !== "finished") {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${revision.ordinal} is ${revision.status}: only a finished checkpoint can be redeployed.`,
    );
  }
  if (!revision.commit_sha || !revision.db_branch_id) {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${revision.ordinal} has no commit and database to deploy.`,
    );
  }
  await assertBranchRetained(db, revision, "redeployed", retention);
  const leaseOwner = `redeploy-${randomBytes(8).toString("hex")}`;
  if (!(await claimDeployLease(db, revision.id, leaseOwner, DEPLOY_LEASE_TTL_MS))) {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${revision.ordinal} is already being deployed: wait for that deploy to end.`,
    );
  }
  return { revision: toRevisionDto(revision, origins), leaseOwner };
}
