import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Conversation } from "@/components/conversation/conversation";
import {
  type CheckpointGroup,
  checkpointStatus,
  groupEvents,
  type SessionEvent,
} from "@/components/conversation/group-events";
import { CheckpointHeader } from "@/components/workspace/checkpoint-header";
import type { EventBody } from "@/server/events/schema";

// Issue 12: what the workspace's header, the conversation's badge and the step bar say about the live checkpoint.

const T0 = 1_750_000_000_000;

function session(entries: Array<[seconds: number, body: EventBody]>): SessionEvent[] {
  return entries.map(
    ([seconds, body], index) =>
      ({ ...body, cursor: index + 1, seq: index, at: T0 + seconds * 1_000, checkpoint: 1 }) as SessionEvent,
  );
}

function onlyGroup(events: SessionEvent[]): CheckpointGroup {
  const [group] = groupEvents(events);
  if (!group) throw new Error("no group");
  return group;
}

/** What the workspace shows above its conversation, and the conversation itself. */
function renderWorkspaceColumn(group: CheckpointGroup, storedStatus: string): string {
  const header = renderToString(
    createElement(CheckpointHeader, { ordinal: 1, group, storedStatus, reconnecting: false }),
  );
  const conversation = renderToString(createElement(Conversation, { groups: [group] }));
  return header + conversation;
}

const textOf = (html: string) => html.replace(/<[^>]+>/g, "").replace(/&#x27;/g, "'");
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

/** The platform has recorded provisioning; the sandbox's runner already reports generating. */
const generatingEarly = session([
  [0, { type: "revision.status", payload: { status: "provisioning" } }],
  [0, { type: "step.started", payload: { step: "provision" } }],
  [5, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } }],
  [6, { type: "step.finished", payload: { step: "provision", durationMs: 6_000 } }],
  [7, { type: "agent.message", payload: { itemId: "m1", text: "Writing the guestbook." } }],
]);

describe("the live checkpoint's status", () => {
  it("is the step running now, so the header and the step bar agree", () => {
    const group = onlyGroup(generatingEarly);
    expect(group.steps.find((step) => step.state === "running")?.step).toBe("generate");
    expect(checkpointStatus(group)).toBe("generating");
    // The stored status still says provisioning: the header reads the events, like the step bar beside it.
    const text = textOf(renderWorkspaceColumn(group, "provisioning"));
    expect(text).toContain("Checkpoint 1 · generating");
    expect(text).not.toMatch(/provisioning/i);
  });

  it("never goes back to an earlier step, and an end is the end", () => {
    const later = onlyGroup(
      session([
        [0, { type: "revision.status", payload: { status: "verifying" } }],
        [1, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 2 } }],
      ]),
    );
    expect(checkpointStatus(later)).toBe("verifying");
    const cancelled = onlyGroup([
      ...generatingEarly,
      ...session([
        [
          9,
          { type: "revision.status", payload: { status: "cancelled", reason: "Cancelled by the operator." } },
        ],
        // The platform's step finishing its work after the cancel changes nothing.
        [10, { type: "step.finished", payload: { step: "generate", durationMs: 1_000 } }],
      ]).map((event, index) => ({ ...event, cursor: 100 + index })),
    ]);
    expect(checkpointStatus(cancelled)).toBe("cancelled");
    expect(cancelled.steps.find((step) => step.step === "generate")?.state).toBe("cancelled");
    expect(cancelled.steps.some((step) => step.state === "running")).toBe(false);
  });
});

describe("a failure", () => {
  const message = "Quota exceeded for model gpt-5.5: check your plan and billing details.";
  const reason = `the agent failed (exit code 1): ${message}`;
  const failed = session([
    [0, { type: "revision.status", payload: { status: "generating" } }],
    [1, { type: "runner.step", payload: { step: "generate", status: "started", attempt: 1 } }],
    [2, { type: "agent.error", payload: { message } }],
    [3, { type: "runner.step", payload: { step: "generate", status: "failed", attempt: 1, reason } }],
    [3, { type: "runner.failed", payload: { step: "generate", reason } }],
    [4, { type: "step.failed", payload: { step: "generate", reason } }],
    [4, { type: "revision.status", payload: { status: "failed", reason } }],
  ]);

  it("is shown once: not again by the agent's own report, nor by the step bar", () => {
    const html = textOf(renderWorkspaceColumn(onlyGroup(failed), "failed"));
    expect(count(html, message)).toBe(1);
    expect(html).toContain(`Writing the code failed: ${reason}`);
  });

  it("keeps an agent error the failure does not repeat (a warning along the way)", () => {
    const warned = session([
      [0, { type: "revision.status", payload: { status: "generating" } }],
      [1, { type: "agent.error", payload: { message: "Model metadata for `x` not found" } }],
      [3, { type: "runner.failed", payload: { step: "verify", reason: "npm run build failed" } }],
    ]);
    const kinds = onlyGroup(warned).items.map((item) => item.kind);
    expect(kinds).toEqual(["agent_error", "failure"]);
  });
});
