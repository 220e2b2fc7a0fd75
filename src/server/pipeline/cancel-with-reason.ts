import type { Executor } from "@/server/db/connection";
import { findRevisionById } from "@/server/db/queries/pipeline";
import { inTransaction } from "@/server/db/transaction";
import { appendPlatformEvent } from "@/server/events/append";
import { isTerminal } from "@/server/revisions/state-machine";
import { transitionRevision } from "@/server/revisions/transition";

/**
 * Cancels a running revision of any operator with a reason (the kill switch's), recording the cancelled event in
 * the same transaction, as an operator's cancel does (operations/cancel-revision.ts). Returns false when the
 * revision had already ended. Its sandbox is the caller's to stop (stop-sandbox.ts).
 */
export async function cancelWithReason(db: Executor, revisionId: string, reason: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await findRevisionById(db, revisionId);
    if (!row || isTerminal(row.status)) return false;
    // Each attempt is its own transaction: a retry must read the status another writer committed meanwhile.
    const cancelled = await inTransaction(db, async (tx) => {
      if (!(await transitionRevision(tx, row, "cancelled", { reason }))) return false;
      await appendPlatformEvent(tx, {
        projectId: row.project_id,
        taskId: row.task_id,
        revisionId: row.id,
        body: { type: "revision.status", payload: { status: "cancelled", reason } },
      });
      return true;
    });
    if (cancelled) return true;
  }
  return false;
}
