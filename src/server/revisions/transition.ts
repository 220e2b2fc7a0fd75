import type { Executor } from "@/server/db/connection";
import { changeRevisionStatus } from "@/server/db/queries/revisions";
import type { Revision } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { canTransition, isRunning, isTerminal, type RevisionStatus, stepOfStatus } from "./state-machine";

export type TransitionOptions = { reason?: string; errorCode?: string; now?: number };

/**
 * Moves a revision to `to` if the state machine allows it and nobody moved it meanwhile. Returns false when another
 * writer got there first (the caller re-reads); throws `conflict:revision_state` for a move the machine forbids.
 */
export async function transitionRevision(
  db: Executor,
  revision: Pick<Revision, "id" | "status" | "started_at">,
  to: RevisionStatus,
  options: TransitionOptions = {},
): Promise<boolean> {
  const from = revision.status;
  if (!isRunning(from) || !canTransition(from, to)) {
    throw new AppError("conflict:revision_state", `A ${from} revision cannot become ${to}.`);
  }
  const now = options.now ?? Date.now();
  const terminal = isTerminal(to);
  return changeRevisionStatus(
    db,
    revision.id,
    from,
    {
      status: to,
      step: terminal ? null : stepOfStatus[to as keyof typeof stepOfStatus],
      errorCode: to === "failed" ? (options.errorCode ?? "failed") : undefined,
      errorMessage: to === "failed" || to === "cancelled" ? (options.reason ?? null) : undefined,
      startedAt: from === "queued" && revision.started_at === null ? now : undefined,
      finishedAt: terminal ? now : undefined,
    },
    now,
  );
}
