import { describe, expect, it } from "vitest";
import { endedRevisionStatuses } from "@/server/db/queries/projects";
import { deriveCardStatus } from "@/server/projects/card-status";
import { runningStatuses, terminalStatuses } from "@/server/revisions/state-machine";

describe("a project card's status", () => {
  it("a working app whose latest change failed is live, with a note", () => {
    expect(deriveCardStatus({ runningStatus: null, lastEndedStatus: "failed", hasFinished: true })).toEqual({
      state: "live",
      label: "Live",
      note: "The latest change failed; the last working version is live.",
    });
  });

  it("a working app whose latest change was cancelled is live, with a note", () => {
    expect(
      deriveCardStatus({ runningStatus: null, lastEndedStatus: "cancelled", hasFinished: true }),
    ).toEqual({
      state: "live",
      label: "Live",
      note: "The latest change was cancelled; the last working version is live.",
    });
  });

  it("a working app whose latest change finished is live, without a note", () => {
    expect(deriveCardStatus({ runningStatus: null, lastEndedStatus: "finished", hasFinished: true })).toEqual(
      {
        state: "live",
        label: "Live",
        note: null,
      },
    );
  });

  it("a running checkpoint is building, saying which step, and that a working app stays up", () => {
    expect(
      deriveCardStatus({ runningStatus: "generating", lastEndedStatus: "failed", hasFinished: true }),
    ).toEqual({ state: "building", label: "Building", note: "Writing code… The live version stays up." });
    expect(
      deriveCardStatus({ runningStatus: "verifying", lastEndedStatus: null, hasFinished: false }),
    ).toEqual({
      state: "building",
      label: "Building",
      note: "Verifying the build…",
    });
    expect(
      deriveCardStatus({ runningStatus: "queued", lastEndedStatus: null, hasFinished: false }).note,
    ).toBe("Waiting to start…");
  });

  it("an app that never finished shows how its last attempt ended", () => {
    expect(deriveCardStatus({ runningStatus: null, lastEndedStatus: "failed", hasFinished: false })).toEqual({
      state: "failed",
      label: "Failed",
      note: null,
    });
    expect(
      deriveCardStatus({ runningStatus: null, lastEndedStatus: "cancelled", hasFinished: false }),
    ).toEqual({
      state: "cancelled",
      label: "Cancelled",
      note: null,
    });
  });

  it("a project without checkpoints is new", () => {
    expect(deriveCardStatus({ runningStatus: null, lastEndedStatus: null, hasFinished: false }).state).toBe(
      "new",
    );
  });

  it("knows every status of the revision state machine", () => {
    // The dashboard's query repeats the terminal statuses (the db layer cannot import revisions).
    expect([...endedRevisionStatuses].sort()).toEqual([...terminalStatuses].sort());
    for (const status of runningStatuses) {
      const { note } = deriveCardStatus({ runningStatus: status, lastEndedStatus: null, hasFinished: false });
      expect(note).not.toBe("Working…");
    }
  });
});
