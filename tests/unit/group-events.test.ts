import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Conversation } from "@/components/conversation/conversation";
import {
  formatDuration,
  groupEvents,
  type SessionEvent,
  stepElapsedMs,
  withCheckpoints,
} from "@/components/conversation/group-events";
import { buildTimeline, eventsAtTime } from "@/components/conversation/timeline";
import type { EventBody, StoredEvent } from "@/server/events/schema";

const T0 = 1_750_000_000_000;

/** Events in cursor order; `at` is seconds after T0. */
function session(
  entries: Array<[checkpoint: number | null, seconds: number, body: EventBody]>,
): SessionEvent[] {
  return entries.map(
    ([checkpoint, seconds, body], index) =>
      ({ ...body, cursor: index + 1, seq: index, at: T0 + seconds * 1_000, checkpoint }) as SessionEvent,
  );
}

const status = (value: EventBody & { type: "revision.status" }) => value;

/** A first checkpoint whose build fails once, is fixed by the agent, then finishes. */
function firstCheckpoint(): Array<[number, number, EventBody]> {
  return [
    [1, 0, status({ type: "revision.status", payload: { status: "planning" } })],
    [1, 0, { type: "step.started", payload: { step: "plan" } }],
    [
      1,
      3,
      {
        type: "plan",
        payload: { title: "Todo app", slug: "todo", steps: ["Schema", "UI"], prompt: "Build it" },
      },
    ],
    [1, 3, { type: "step.finished", payload: { step: "plan", durationMs: 2_500 } }],
    [1, 3, status({ type: "revision.status", payload: { status: "provisioning" } })],
    [1, 3, { type: "step.started", payload: { step: "provision" } }],
    [1, 10, { type: "step.finished", payload: { step: "provision", durationMs: 7_000 } }],
    [1, 10, status({ type: "revision.status", payload: { status: "generating" } })],
    [1, 10, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } }],
    [1, 11, { type: "agent.message", payload: { itemId: "m1", text: "I'll add a todos table." } }],
    [
      1,
      12,
      {
        type: "agent.command",
        payload: { itemId: "c1", command: "npm test", output: "", exitCode: null, status: "running" },
      },
    ],
    [1, 12, { type: "agent.todo", payload: { itemId: "t1", items: [{ text: "Schema", done: false }] } }],
    [
      1,
      14,
      {
        type: "agent.command",
        payload: { itemId: "c1", command: "npm test", output: "2 passed", exitCode: 0, status: "completed" },
      },
    ],
    [1, 14, { type: "agent.todo", payload: { itemId: "t1", items: [{ text: "Schema", done: true }] } }],
    [1, 15, { type: "agent.usage", payload: { inputTokens: 100, outputTokens: 20, cachedTokens: 50 } }],
    [1, 15, { type: "runner.step", payload: { step: "generate", status: "finished", attempt: 1 } }],
    [1, 15, { type: "runner.step", payload: { step: "migrate", status: "started", attempt: 1 } }],
    [1, 16, { type: "runner.step", payload: { step: "migrate", status: "finished", attempt: 1 } }],
    [1, 16, { type: "runner.step", payload: { step: "verify", status: "started", attempt: 1 } }],
    [1, 17, { type: "runner.output", payload: { step: "verify", stream: "stdout", text: "> next build\n" } }],
    [1, 18, { type: "runner.output", payload: { step: "verify", stream: "stdout", text: "Type error\n" } }],
    [
      1,
      18,
      {
        type: "runner.step",
        payload: {
          step: "verify",
          status: "failed",
          attempt: 1,
          reason: "npm run build failed (exit code 1)",
        },
      },
    ],
    [1, 19, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 2 } }],
    [1, 25, { type: "runner.step", payload: { step: "generate", status: "finished", attempt: 2 } }],
    [1, 25, { type: "runner.step", payload: { step: "verify", status: "started", attempt: 2 } }],
    [1, 40, { type: "runner.step", payload: { step: "verify", status: "finished", attempt: 2 } }],
    [1, 40, { type: "runner.step", payload: { step: "commit", status: "started", attempt: 1 } }],
    [1, 41, { type: "runner.step", payload: { step: "commit", status: "finished", attempt: 1 } }],
    [1, 42, { type: "progress", payload: { message: "Committed abc1234 to main." } }],
    [1, 50, status({ type: "revision.status", payload: { status: "finished" } })],
  ];
}

/** A follow-up (no plan) whose build fails for good. */
function failingFollowUp(start: number): Array<[number, number, EventBody]> {
  const reason = "npm run build failed (exit code 1): Type error in page.tsx";
  return [
    [2, start, status({ type: "revision.status", payload: { status: "provisioning" } })],
    [2, start, { type: "step.started", payload: { step: "provision" } }],
    [2, start + 2, { type: "step.finished", payload: { step: "provision", durationMs: 2_000 } }],
    [2, start + 2, status({ type: "revision.status", payload: { status: "generating" } })],
    [2, start + 3, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } }],
    [2, start + 9, { type: "runner.step", payload: { step: "generate", status: "finished", attempt: 1 } }],
    [2, start + 9, { type: "runner.step", payload: { step: "verify", status: "started", attempt: 2 } }],
    [
      2,
      start + 20,
      { type: "runner.step", payload: { step: "verify", status: "failed", attempt: 2, reason } },
    ],
    [2, start + 20, { type: "runner.failed", payload: { step: "verify", reason } }],
    [2, start + 21, { type: "step.failed", payload: { step: "verify", reason } }],
    [2, start + 21, status({ type: "revision.status", payload: { status: "failed", reason } })],
  ];
}

describe("groupEvents", () => {
  it("groups by checkpoint with the conversation in order and agent items updated in place", () => {
    const groups = groupEvents(session(firstCheckpoint()));
    expect(groups).toHaveLength(1);
    const [group] = groups;
    expect(group?.checkpoint).toBe(1);
    expect(group?.status).toBe("finished");
    expect(group?.items.map((item) => item.kind)).toEqual([
      "plan",
      "message",
      "command",
      "todo",
      "output",
      "failure",
      "progress",
      "ended",
    ]);
    const command = group?.items[2];
    expect(command).toMatchObject({ kind: "command", output: "2 passed", exitCode: 0, status: "completed" });
    // It stays where it started, and records which event last changed it.
    expect(command?.at).toBe(T0 + 12_000);
    expect(command?.rev).toBe(13);
    expect(group?.items[3]).toMatchObject({ kind: "todo", items: [{ text: "Schema", done: true }] });
    // Consecutive chunks of one step's output are one log.
    expect(group?.items[4]).toMatchObject({ kind: "output", text: "> next build\nType error\n" });
    expect(group?.usage).toEqual({ inputTokens: 100, outputTokens: 20, cachedTokens: 50 });
  });

  it("times each step, counts retries, and skips what never ran", () => {
    const [group] = groupEvents(session(firstCheckpoint()));
    const steps = Object.fromEntries(group?.steps.map((step) => [step.step, step]) ?? []);
    expect(steps.plan).toMatchObject({ state: "done", durationMs: 2_500 });
    expect(steps.provision).toMatchObject({ state: "done", durationMs: 7_000 });
    // Two attempts: 10 s → 15 s and 19 s → 25 s.
    expect(steps.generate).toMatchObject({ state: "done", attempt: 2, durationMs: 11_000 });
    // The first build failed, the agent fixed it, the second passed: the step reads as done, not failed.
    expect(steps.verify).toMatchObject({ state: "done", attempt: 2, reason: null });
    expect(steps.commit).toMatchObject({ state: "done", durationMs: 1_000 });
    expect(steps.preview?.state).toBe("skipped");
    expect(steps.deploy?.state).toBe("skipped");
  });

  it("reports a failure once, in plain words, with the failing step and its reason", () => {
    const groups = groupEvents(session([...firstCheckpoint(), ...failingFollowUp(60)]));
    expect(groups.map((group) => group.checkpoint)).toEqual([1, 2]);
    const followUp = groups[1];
    expect(followUp?.status).toBe("failed");
    expect(followUp?.reason).toMatch(/^npm run build failed/);
    const failures = followUp?.items.filter((item) => item.kind === "failure" || item.kind === "ended");
    expect(failures).toEqual([
      expect.objectContaining({
        kind: "failure",
        step: "verify",
        reason: expect.stringMatching(/Type error/),
      }),
    ]);
    const steps = Object.fromEntries(followUp?.steps.map((step) => [step.step, step]) ?? []);
    expect(steps.plan?.state).toBe("skipped");
    expect(steps.verify).toMatchObject({ state: "failed", durationMs: 11_000 });
    expect(steps.verify?.reason).toMatch(/Type error in page\.tsx/);
    expect(steps.commit?.state).toBe("skipped");
  });

  it("groups only the first `count` events: the replay's playhead", () => {
    const events = session([...firstCheckpoint(), ...failingFollowUp(60)]);
    const atVerify = groupEvents(events, 21);
    expect(atVerify).toHaveLength(1);
    const steps = Object.fromEntries(atVerify[0]?.steps.map((step) => [step.step, step]) ?? []);
    expect(steps.verify?.state).toBe("running");
    expect(steps.deploy?.state).toBe("pending");
    expect(atVerify[0]?.status).toBe("generating");
    // Elapsed while running: finished attempts plus now − the current attempt's start.
    expect(stepElapsedMs(steps.verify ?? never(), T0 + 20_000)).toBe(4_000);
    expect(groupEvents(events, 0)).toEqual([]);
  });

  it("turns operator events into session events by revision ordinal", () => {
    const stored: StoredEvent[] = [
      {
        id: "plt_1",
        seq: 0,
        at: T0,
        cursor: 7,
        revisionId: "rev_b",
        type: "progress",
        payload: { message: "hi" },
      },
      { id: "plt_2", seq: 1, at: T0, cursor: 8, revisionId: null, type: "runner.finished", payload: {} },
    ];
    expect(withCheckpoints(stored, new Map([["rev_b", 2]]))).toEqual([
      { type: "progress", payload: { message: "hi" }, cursor: 7, seq: 0, at: T0, checkpoint: 2 },
      { type: "runner.finished", payload: {}, cursor: 8, seq: 1, at: T0, checkpoint: null },
    ]);
  });
});

function never(): never {
  throw new Error("fixture");
}

describe("replay timeline", () => {
  it("keeps the rhythm of events but caps long pauses, never running backwards", () => {
    const events = [
      { at: T0, checkpoint: 1 },
      { at: T0 + 500, checkpoint: 1 },
      { at: T0 + 300_000, checkpoint: 1 }, // five idle minutes
      { at: T0 + 299_000, checkpoint: 1 }, // arrived later, happened earlier
      { at: T0 + 301_000, checkpoint: 2 },
    ];
    const timeline = buildTimeline(events);
    expect(timeline.times).toEqual([0, 500, 2_500, 2_500, 3_500]);
    expect(timeline.duration).toBe(3_500);
    expect(timeline.markers).toEqual([
      { checkpoint: 1, time: 0, index: 0 },
      { checkpoint: 2, time: 3_500, index: 4 },
    ]);
    expect(eventsAtTime(timeline.times, -1)).toBe(0);
    expect(eventsAtTime(timeline.times, 0)).toBe(1);
    expect(eventsAtTime(timeline.times, 2_500)).toBe(4);
    expect(eventsAtTime(timeline.times, 10_000)).toBe(5);
  });
});

describe("formatDuration", () => {
  it("reads like a person would say it", () => {
    expect([850, 12_400, 184_000, 180_000, 3_720_000].map(formatDuration)).toEqual([
      "850 ms",
      "12 s",
      "3 min 4 s",
      "3 min",
      "1 h 2 min",
    ]);
  });
});

describe("Conversation", () => {
  it("renders prompts, messages and failures, with tool activity collapsed to a line", () => {
    const groups = groupEvents(session([...firstCheckpoint(), ...failingFollowUp(60)]));
    const html = renderToString(
      createElement(Conversation, {
        groups,
        checkpoints: [
          { ordinal: 1, prompt: "A todo list" },
          { ordinal: 2, prompt: "Add due dates" },
        ],
      }),
    );
    expect(html).toContain("Add due dates");
    expect(html).toContain(
      "Building the app failed: npm run build failed (exit code 1): Type error in page.tsx",
    );
    // The older checkpoint is collapsed: its messages are not rendered until opened.
    expect(html).toContain("Checkpoint 1");
    expect(html).not.toContain("I&#x27;ll add a todos table.");
    const expanded = renderToString(createElement(Conversation, { groups, expandedGroups: 2 }));
    expect(expanded).toContain("I&#x27;ll add a todos table.");
    expect(expanded).toContain("Tool activity");
    expect(expanded).toMatch(/1 command, 1 to-do update, 1 step log/);
    // A command's output is inside its collapsed block, not on the page.
    expect(expanded).not.toContain("2 passed");
  });

  it("renders only the newest items of a long checkpoint, offering the rest", () => {
    const entries: Array<[number, number, EventBody]> = [];
    for (let i = 0; i < 1_000; i++) {
      entries.push([
        1,
        i,
        { type: "agent.message", payload: { itemId: `m${i}`, text: `message number ${i}` } },
      ]);
    }
    const html = renderToString(
      createElement(Conversation, { groups: groupEvents(session(entries)), initialItems: 100 }),
    );
    expect(html).toContain("message number 999");
    expect(html).toContain("message number 900");
    expect(html).not.toContain("message number 899");
    expect(html).toMatch(/Show earlier activity \(900 more\)/);
  });
});

describe("step timings when the platform lags the runner", () => {
  it("a status for a step the runner already finished does not count as another attempt", () => {
    const [group] = groupEvents(
      session([
        [1, 0, status({ type: "revision.status", payload: { status: "verifying" } })],
        [1, 0, { type: "runner.step", payload: { step: "commit", status: "started", attempt: 1 } }],
        [1, 2, { type: "runner.step", payload: { step: "commit", status: "finished", attempt: 1 } }],
        // The webhook's advancement records "committing" after the runner's commit step is over.
        [1, 3, status({ type: "revision.status", payload: { status: "committing" } })],
        [1, 5, status({ type: "revision.status", payload: { status: "finished" } })],
      ]),
    );
    const commit = group?.steps.find((timing) => timing.step === "commit");
    expect(commit).toMatchObject({ state: "done", attempt: 1, durationMs: 2_000 });
  });
});
