import type { RevisionDto } from "@/server/revisions/revision-types";

// Pure: which checkpoint the workspace's right-hand pane shows, and which checkpoints offer "Restore this version".
// Unit-tested in tests/unit/shown-checkpoint.test.ts.

/** A checkpoint the operator picked, with the newest ordinal there was when they did. */
export type CheckpointPick = { id: string; newestOrdinal: number };

type Checkpoint = Pick<RevisionDto, "id" | "ordinal" | "status" | "commitSha">;

export function newestCheckpoint<T extends Checkpoint>(revisions: readonly T[]): T | null {
  return revisions.reduce<T | null>(
    (newest, revision) => (!newest || revision.ordinal > newest.ordinal ? revision : newest),
    null,
  );
}

/**
 * The picked checkpoint until a newer one appears (a restore, a follow-up, one started elsewhere): the view then
 * moves to the newest, which is what the operator is waiting for.
 */
export function shownCheckpoint<T extends Checkpoint>(
  revisions: readonly T[],
  pick: CheckpointPick | null,
): T | null {
  const newest = newestCheckpoint(revisions);
  if (!pick || (newest && newest.ordinal > pick.newestOrdinal)) return newest;
  return revisions.find((revision) => revision.id === pick.id) ?? newest;
}

/** A finished, committed checkpoint can be restored, except the newest: the app already is that version. */
export function canRestore(revision: Checkpoint, revisions: readonly Checkpoint[]): boolean {
  return (
    revision.status === "finished" &&
    revision.commitSha !== null &&
    revision.id !== newestCheckpoint(revisions)?.id
  );
}

/**
 * A finished checkpoint with its code and data can start a new task, or be promoted onto the main task (the
 * newest too: that is the usual thing to promote).
 */
export function canStartTaskFrom(revision: Checkpoint & Pick<RevisionDto, "dbBranchId">): boolean {
  return revision.status === "finished" && revision.commitSha !== null && revision.dbBranchId !== null;
}
