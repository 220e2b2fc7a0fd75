import { describe, expect, it } from "vitest";
import { canRestore, canStartTaskFrom, shownCheckpoint } from "@/components/workspace/shown-checkpoint";

// Issue 12: after "Restore" the workspace kept showing the checkpoint restored from ("Showing checkpoint 1 (an
// earlier one)"), and the newest checkpoint offered "Restore this version" of itself.

type Row = { id: string; ordinal: number; status: string; commitSha: string | null };
const row = (ordinal: number, status = "finished"): Row => ({
  id: `rev_${ordinal}`,
  ordinal,
  status,
  commitSha: status === "finished" ? `${ordinal}`.repeat(40) : null,
});

describe("the checkpoint the workspace shows", () => {
  it("is the newest until one is picked, then the picked one", () => {
    const revisions = [row(1), row(2)];
    expect(shownCheckpoint(revisions, null)?.ordinal).toBe(2);
    expect(shownCheckpoint(revisions, { id: "rev_1", newestOrdinal: 2 })?.ordinal).toBe(1);
  });

  it("moves to the new checkpoint a restore makes, away from the one picked to restore", () => {
    const pick = { id: "rev_1", newestOrdinal: 2 };
    // The restore of checkpoint 1 is checkpoint 3.
    expect(shownCheckpoint([row(1), row(2), row(3, "queued")], pick)?.ordinal).toBe(3);
  });
});

describe("Restore this version", () => {
  it("is offered on earlier finished checkpoints, not on the current one", () => {
    const revisions = [row(1), row(2), row(3)];
    expect(revisions.map((revision) => canRestore(revision, revisions))).toEqual([true, true, false]);
  });

  it("is not offered on a checkpoint without a commit", () => {
    const revisions = [row(1, "failed"), row(2)];
    expect(canRestore(revisions[0] as Row, revisions)).toBe(false);
  });
});

describe("New task from here and Promote to main", () => {
  it("are offered on every finished checkpoint with code and data, the newest included", () => {
    expect(canStartTaskFrom({ ...row(2), dbBranchId: "dbb_2" })).toBe(true);
    expect(canStartTaskFrom({ ...row(2), dbBranchId: null })).toBe(false);
    expect(canStartTaskFrom({ ...row(3, "generating"), dbBranchId: "dbb_3" })).toBe(false);
    expect(canStartTaskFrom({ ...row(1), commitSha: null, dbBranchId: "dbb_1" })).toBe(false);
  });
});
