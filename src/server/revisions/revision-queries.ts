import type { Executor } from "@/server/db/connection";
import { findRevisionOfUser, listRevisionsOfTask } from "@/server/db/queries/revisions";
import type { Revision } from "@/server/db/schema";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { isTerminal } from "@/server/revisions/state-machine";
import { toRevisionDto } from "./revision-dto";
import type { RevisionDto } from "./revision-types";
import { transitionRevision } from "./transition";

export async function getRevisionOrThrow(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const row = await findRevisionOfUser(db, userId, revisionId);
  if (!row) throw new AppError("not_found:revision");
  return toRevisionDto(row, origins);
}

export async function listTaskRevisions(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<RevisionDto[]> {
  const rows = await listRevisionsOfTask(db, userId, projectId, taskId);
  if (!rows) throw new AppError("not_found:task");
  return rows.map((row) => toRevisionDto(row, origins));
}

/** The reason a cancelled revision carries. */
export const CANCELLED_REASON = "Cancelled by the operator.";

/**
 * What else a cancel writes, in the transaction that makes it (its events: the event log sits above revisions, so
 * the caller brings the writer). Called only when this cancel is the one that ended the revision.
 */
export type RecordCancel = (tx: Executor, revision: Revision, reason: string) => Promise<void>;

/** Cancels a running revision. Stopping its sandbox is the pipeline's job once it sees the cancelled state. */
export async function cancelRevision(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
  record?: RecordCancel,
  reason = CANCELLED_REASON,
): Promise<RevisionDto> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findRevisionOfUser(db, userId, revisionId);
    if (!row) throw new AppError("not_found:revision");
    if (isTerminal(row.status)) {
      throw new AppError(
        "conflict:revision_state",
        `This revision already ${row.status === "cancelled" ? "was cancelled" : row.status}.`,
      );
    }
    // Each attempt is its own transaction: a retry must read the status another writer committed meanwhile.
    const cancelled = await inTransaction(db, async (tx) => {
      if (!(await transitionRevision(tx, row, "cancelled", { reason }))) return false;
      await record?.(tx, row, reason);
      return true;
    });
    if (cancelled) return getRevisionOrThrow(db, origins, userId, revisionId);
  }
  throw new AppError("conflict:revision_state", "The revision kept changing state; try again.");
}
