import { describe, expect, it } from "vitest";
import { currentActivity } from "@/components/conversation/current-activity";
import { groupEvents, type SessionEvent } from "@/components/conversation/group-events";
import { previewChoice } from "@/components/workspace/preview-choice";
import { recoveryFor } from "@/components/workspace/recovery";
import type { EventBody } from "@/server/events/schema";

// Issue 12: the workspace shows what the agent does now, keeps the last good preview up while the next checkpoint
// builds or after it failed, and offers one click on from a failure.

const T0 = 1_750_000_000_000;

function session(entries: Array<[seconds: number, body: EventBody]>): SessionEvent[] {
  return entries.map(
    ([seconds, body], index) =>
      ({ ...body, cursor: index + 1, seq: index, at: T0 + seconds * 1_000, checkpoint: 1 }) as SessionEvent,
  );
}

const generating: Array<[number, EventBody]> = [
  [0, { type: "revision.status", payload: { status: "generating" } }],
  [0, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } }],
];

function activityOf(entries: Array<[number, EventBody]>) {
  const group = groupEvents(session(entries))[0];
  if (!group) throw new Error("no checkpoint");
  return currentActivity(group);
}

describe("what the agent is doing now", () => {
  it("is the command it is running, since it started", () => {
    const activity = activityOf([
      ...generating,
      [4, { type: "agent.message", payload: { itemId: "m1", text: "Installing." } }],
      [
        5,
        {
          type: "agent.command",
          payload: {
            itemId: "c1",
            command: "npm install zod",
            output: "",
            exitCode: null,
            status: "running",
          },
        },
      ],
    ]);
    expect(activity).toEqual({ kind: "command", text: "npm install zod", since: T0 + 5_000 });
  });

  it("is the file it just wrote, and thinking once a command is done", () => {
    const wrote = activityOf([
      ...generating,
      [
        3,
        {
          type: "agent.file_change",
          payload: { itemId: "f1", changes: [{ path: "src/app/page.tsx", kind: "update" }] },
        },
      ],
    ]);
    expect(wrote).toEqual({ kind: "file", text: "src/app/page.tsx", since: T0 + 3_000 });
    const done = activityOf([
      ...generating,
      [
        5,
        {
          type: "agent.command",
          payload: { itemId: "c1", command: "npm test", output: "ok", exitCode: 0, status: "running" },
        },
      ],
      [
        7,
        {
          type: "agent.command",
          payload: { itemId: "c1", command: "npm test", output: "ok", exitCode: 0, status: "completed" },
        },
      ],
    ]);
    expect(done).toEqual({ kind: "thinking", since: T0 });
  });

  it("is nothing once the agent's step is over", () => {
    expect(
      activityOf([
        ...generating,
        [9, { type: "runner.step", payload: { step: "generate", status: "finished", attempt: 1 } }],
        [9, { type: "runner.step", payload: { step: "migrate", status: "started", attempt: 1 } }],
      ]),
    ).toBeNull();
  });
});

type Row = {
  id: string;
  ordinal: number;
  status: string;
  previewUrl: string | null;
  screenshotUrl: string | null;
  previewAsleep: boolean;
};
const row = (ordinal: number, status: string, preview = status === "finished"): Row => ({
  id: `rev_${ordinal}`,
  ordinal,
  status,
  previewUrl: preview ? `http://p${ordinal}.localhost` : null,
  screenshotUrl: null,
  previewAsleep: false,
});

describe("the preview while the next checkpoint builds", () => {
  it("keeps the last good version up, saying what is being built", () => {
    const revisions = [row(1, "finished"), row(2, "failed"), row(3, "generating")];
    const newest = revisions[2] ?? null;
    const choice = previewChoice(revisions, newest, newest);
    expect(choice.revision?.ordinal).toBe(1);
    expect(choice.notice).toEqual({ kind: "building", ordinal: 3, status: "generating" });
  });

  it("moves to the new checkpoint as soon as it has a preview of its own", () => {
    const revisions = [row(1, "finished"), row(2, "verifying", true)];
    const choice = previewChoice(revisions, revisions[1] ?? null, revisions[1] ?? null);
    expect(choice).toEqual({ revision: revisions[1], notice: null });
  });

  it("after a failure shows the last finished checkpoint", () => {
    const revisions = [row(1, "finished"), row(2, "finished"), row(3, "failed")];
    const choice = previewChoice(revisions, revisions[2] ?? null, revisions[2] ?? null);
    expect(choice.revision?.ordinal).toBe(2);
    expect(choice.notice).toEqual({ kind: "ended", ordinal: 3, status: "failed" });
  });

  it("shows an earlier checkpoint the operator picked as it is, and a first build as it is", () => {
    const revisions = [row(1, "finished"), row(2, "generating")];
    expect(previewChoice(revisions, revisions[0] ?? null, revisions[1] ?? null)).toEqual({
      revision: revisions[0],
      notice: null,
    });
    const first = [row(1, "generating")];
    expect(previewChoice(first, first[0] ?? null, first[0] ?? null)).toEqual({
      revision: first[0],
      notice: null,
    });
  });
});

describe("one click on from a failed checkpoint", () => {
  const failed = {
    ordinal: 4,
    status: "failed",
    kind: "prompt",
    prompt: "add a due date",
    restoredFromRevisionId: null,
    error: { code: "failed", message: "npm run build failed (exit code 1): Type error: x is not a string" },
  };

  it("hands the app's own failure to the agent with the error", () => {
    const recovery = recoveryFor(failed, "verify");
    expect(recovery?.kind).toBe("fix");
    expect(recovery && "prompt" in recovery ? recovery.prompt : "").toContain(
      "Checkpoint 4 failed: Building the app failed with this error:",
    );
    expect(recovery && "prompt" in recovery ? recovery.prompt : "").toContain(
      "Type error: x is not a string",
    );
  });

  it("tries a platform or vendor failure again as it was asked", () => {
    expect(
      recoveryFor({ ...failed, error: { code: "failed", message: "upstream 500" } }, "generate"),
    ).toEqual({
      kind: "retry",
      prompt: "add a due date",
    });
    expect(recoveryFor({ ...failed, kind: "restore", restoredFromRevisionId: "rev_1" }, "provision")).toEqual(
      {
        kind: "restore-again",
        revisionId: "rev_1",
      },
    );
  });

  it("offers nothing on a checkpoint that did not fail", () => {
    expect(recoveryFor({ ...failed, status: "cancelled" }, "verify")).toBeNull();
  });
});
