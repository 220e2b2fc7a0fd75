import type { Executor } from "@/server/db/connection";
import { findDbBranch, getProjectById } from "@/server/db/queries/pipeline";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { decryptBranchConnection } from "@/server/integrations/database-branches/branch-connection";
import type { DatabaseBranches } from "@/server/integrations/database-branches/port";
import { ProviderError } from "@/server/integrations/provider-error";
import type { RevisionDatabase } from "./revision-database-types";

// The DATABASE tab: the tables of a checkpoint's own database branch and the app's migrations applied to it, read
// live from the branch by the project's DatabaseBranches adapter with the app's own credentials. Nothing is written.

/** A branch slower than this is reported unavailable. */
const deadlineMs = 20_000;

/**
 * The tables and applied migrations of checkpoint `revisionId`'s database branch, for its owner (another operator's
 * reads as not_found:revision). A branch retention removed is conflict:branch_pruned; one not created yet is
 * conflict:revision_not_ready; a missing, unreachable or too slow one is unavailable:database.
 */
export async function describeRevisionDatabase(
  db: Executor,
  key: Buffer,
  userId: string,
  revisionId: string,
  branchesFor: (project: Project) => Promise<DatabaseBranches>,
): Promise<RevisionDatabase> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  const branch = revision.db_branch_id ? await findDbBranch(db, revision.db_branch_id) : undefined;
  if (branch && branch.project_id !== revision.project_id) {
    throw new Error(`Revision ${revision.id} points at database branch ${branch.id} of another project.`);
  }
  if (branch?.deleted_at != null) {
    throw new AppError(
      "conflict:branch_pruned",
      `Checkpoint ${revision.ordinal}'s database branch was removed by retention, so its data can no longer be shown.`,
    );
  }
  if (!branch?.connection_ciphertext) {
    throw new AppError(
      "conflict:revision_not_ready",
      `Checkpoint ${revision.ordinal} has no database branch yet: it is created while the checkpoint is provisioned.`,
    );
  }
  const connection = decryptBranchConnection(key, branch.id, branch.connection_ciphertext);
  try {
    const branches = await branchesFor(await getProjectById(db, revision.project_id));
    return await branches.inspectBranch(connection, { timeoutMs: deadlineMs });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    throw new AppError(
      "unavailable:database",
      `Could not read checkpoint ${revision.ordinal}'s database: ${error.message}`,
      { cause: error },
    );
  }
}
