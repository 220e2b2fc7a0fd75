import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import { findDbBranch, getProjectById } from "@/server/db/queries/pipeline";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { decryptBranchConnection } from "@/server/integrations/database-branches/branch-connection";
import type {
  BranchConnection,
  DatabaseBranches,
  TableRows,
} from "@/server/integrations/database-branches/port";
import { ProviderError } from "@/server/integrations/provider-error";
import type { RevisionDatabase } from "./revision-database-types";

// The DATABASE tab: the tables of a checkpoint's own database branch and the app's migrations applied to it, read
// live from the branch by the project's DatabaseBranches adapter with the app's own credentials. Nothing is written.

/** A branch slower than this is reported unavailable. */
const deadlineMs = 20_000;

/**
 * Reads checkpoint `revisionId`'s database branch with `read`, for its owner (another operator's reads as
 * not_found:revision). A branch retention removed is conflict:branch_pruned; one not created yet is
 * conflict:revision_not_ready; a missing, unreachable or too slow one is unavailable:database.
 */
async function readRevisionBranch<T>(
  db: Executor,
  key: Buffer,
  userId: string,
  revisionId: string,
  branchesFor: (project: Project) => Promise<DatabaseBranches>,
  read: (branches: DatabaseBranches, connection: BranchConnection) => Promise<T>,
): Promise<T> {
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
    return await read(branches, connection);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    throw new AppError(
      "unavailable:database",
      `Could not read checkpoint ${revision.ordinal}'s database: ${error.message}`,
      { cause: error },
    );
  }
}

/** The tables and applied migrations of checkpoint `revisionId`'s database branch (see `readRevisionBranch`). */
export function describeRevisionDatabase(
  db: Executor,
  key: Buffer,
  userId: string,
  revisionId: string,
  branchesFor: (project: Project) => Promise<DatabaseBranches>,
): Promise<RevisionDatabase> {
  return readRevisionBranch(db, key, userId, revisionId, branchesFor, (branches, connection) =>
    branches.inspectBranch(connection, { timeoutMs: deadlineMs }),
  );
}

export const tableRowsQuerySchema = z.object({
  table: z.string().min(1, "Name the table").max(200),
  page: z.coerce.number().int("Pages are whole numbers").min(1, "Pages start at 1").max(1_000_000).default(1),
});

/** Rows per page of the row browser. */
export const ROWS_PER_PAGE = 50;

/**
 * One page of one table of checkpoint `revisionId`'s database branch, for its owner (never in the replay); a table
 * the app does not have is not_found:table.
 */
export async function readRevisionTableRows(
  db: Executor,
  key: Buffer,
  userId: string,
  revisionId: string,
  query: z.output<typeof tableRowsQuerySchema>,
  branchesFor: (project: Project) => Promise<DatabaseBranches>,
): Promise<TableRows> {
  const rows = await readRevisionBranch(db, key, userId, revisionId, branchesFor, (branches, connection) =>
    branches.readTableRows(
      connection,
      { table: query.table, offset: (query.page - 1) * ROWS_PER_PAGE, limit: ROWS_PER_PAGE },
      { timeoutMs: deadlineMs },
    ),
  );
  if (!rows)
    throw new AppError("not_found:table", `The database has no table named “${query.table.slice(0, 100)}”.`);
  return rows;
}
