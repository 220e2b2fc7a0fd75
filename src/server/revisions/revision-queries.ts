import type { Executor } from "@/server/db/connection";
import { findRevisionOfUser, listRevisionsOfTask } from "@/server/db/queries/revisions";
import { AppError } from "@/server/errors";
import { isTerminal } from "@/server/pipeline/state-machine";
import { type RevisionDto, toRevisionDto } from "./revision-dto";
import { transitionRevision } from "./transition";

export async function getRevisionOrThrow(
  db: Executor,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const row = await findRevisionOfUser(db, userId, revisionId);
  if (!row) throw new AppError("not_found:revision");
  return toRevisionDto(row);
}

export async function listTaskRevisions(
  db: Executor,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<RevisionDto[]> {
  const rows = await listRevisionsOfTask(db, userId, projectId, taskId);
  if (!rows) throw new AppError("not_found:task");
  return rows.map(toRevisionDto);
}

/** Cancels a running revision. Stopping its sandbox is the pipeline's job once it sees the cancelled state. */
export async function cancelRevision(db: Executor, userId: string, revisionId: string): Promise<RevisionDto> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findRevisionOfUser(db, userId, revisionId);
    if (!row) throw new AppError("not_found:revision");
    if (isTerminal(row.status)) {
      throw new AppError(
        "conflict:revision_state",
        `This revision already ${row.status === "cancelled" ? "was cancelled" : row.status}.`,
      );
    }
    if (await transitionRevision(db, row, "cancelled", { reason: "Cancelled by the operator." })) {
      return getRevisionOrThrow(db, userId, revisionId);
    }
  }
  throw new AppError("conflict:revision_state", "The revision kept changing state; try again.");
}
