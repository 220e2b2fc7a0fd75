import type { Executor } from "@/server/db/connection";
import { findDbBranch, getProjectById } from "@/server/db/queries/pipeline";
import type { Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";

export type RetentionContext = {
  /** The platform's KILN_BRANCH_RETENTION, to say how many checkpoints are kept; the project's own wins. */
  defaultRetention?: number;
};

/**
 * Refuses work that needs a checkpoint's database branch once retention deleted it (branch-retention.ts). Call after
 * ownership was checked. A checkpoint whose branch row is unknown is not refused here: retention never left that.
 */
export async function assertBranchRetained(
  db: Executor,
  revision: Pick<Revision, "ordinal" | "db_branch_id" | "project_id">,
  action: "restored" | "woken" | "redeployed" | "branched into a new task",
  context: RetentionContext = {},
): Promise<void> {
  if (!revision.db_branch_id) return;
  const branch = await findDbBranch(db, revision.db_branch_id);
  if (!branch || branch.deleted_at === null) return;
  const project = await getProjectById(db, revision.project_id);
  const keep = project.branch_retention ?? context.defaultRetention;
  const kept = keep
    ? `the project keeps the last ${keep} checkpoints`
    : "the project keeps only its latest checkpoints";
  throw new AppError(
    "conflict:branch_pruned",
    `Checkpoint ${revision.ordinal} cannot be ${action}. Its database branch was removed by retention (${kept}).`,
  );
}
