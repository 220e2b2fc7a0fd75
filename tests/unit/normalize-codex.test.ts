import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCodexNormalizer } from "@/agents/codex/normalizer";
import { maxTextChars } from "@/agents/event-text";
import { type EventBody, eventBodySchema } from "@/server/events/schema";

// Real Codex 0.169.0 output, recorded by tests/fixtures/agent-output/record.ts in /tmp/kiln-agent-sample/work.
const workdir = "/tmp/kiln-agent-sample/work";
const fixtures = path.resolve("tests/fixtures/agent-output");

function sample(name: string): string[] {
  return fs.readFileSync(path.join(fixtures, name), "utf8").split("\n");
}

function normalize(lines: string[], normalizer = createCodexNormalizer({ workdir })): EventBody[] {
  const events = lines.flatMap((line) => normalizer.push(line));
  return [...events, ...normalizer.end()];
}

function line(value: unknown): string {
  return JSON.stringify(value);
}

describe("Codex JSONL → Kiln events, on recorded output", () => {
  it("maps a whole turn: session, reasoning, messages, file changes, commands, usage", () => {
    const normalizer = createCodexNormalizer({ workdir });
    const events = normalize(sample("codex-tools.jsonl"), normalizer);
    for (const event of events) expect(eventBodySchema.parse(event)).toEqual(event);
    expect(events.map((event) => event.type)).toEqual([
      "agent.session",
      "agent.reasoning",
      "agent.message",
      "agent.file_change",
      "agent.file_change",
      "agent.file_change",
      "agent.command",
      "agent.command",
      "agent.command",
      "agent.command",
      "agent.message",
      "agent.usage",
    ]);
    const threadId = normalizer.sessionId;
    expect(threadId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[0]).toEqual({ type: "agent.session", payload: { sessionId: threadId } });
    expect(events[1]).toEqual({
      type: "agent.reasoning",
      payload: { itemId: "item_0", text: "**Planning the file**\n\nI will write hello.txt first." },
    });
    // Codex reports absolute paths; the UI shows them relative to the app.
    expect(
      events.filter((event) => event.type === "agent.file_change").map((event) => event.payload),
    ).toEqual([
      { itemId: "item_2", changes: [{ path: "hello.txt", kind: "add" }] },
      {
        itemId: "item_3",
        changes: [
          { path: "hello.txt", kind: "update" },
          { path: "notes.md", kind: "add" },
        ],
      },
      { itemId: "item_4", changes: [{ path: "notes.md", kind: "delete" }] },
    ]);
    expect(events.filter((event) => event.type === "agent.command").map((event) => event.payload)).toEqual([
      {
        itemId: "item_5",
        command: "/bin/bash -lc 'cat hello.txt && ls'",
        output: "",
        exitCode: null,
        status: "running",
      },
      {
        itemId: "item_5",
        command: "/bin/bash -lc 'cat hello.txt && ls'",
        output: "hello, world\nhello.txt\n",
        exitCode: 0,
        status: "completed",
      },
      {
        itemId: "item_6",
        command: "/bin/bash -lc 'echo oops >&2; exit 3'",
        output: "",
        exitCode: null,
        status: "running",
      },
      {
        itemId: "item_6",
        command: "/bin/bash -lc 'echo oops >&2; exit 3'",
        output: "oops\n",
        exitCode: 3,
        status: "failed",
      },
    ]);
    expect(events.at(-1)).toEqual({
      type: "agent.usage",
      payload: { inputTokens: 9600, outputTokens: 640, cachedTokens: 8000 },
    });
    expect(normalizer.failed).toBe(false);
    expect(normalizer.budgetExceeded).toBe(false);
    expect(normalizer.stats).toEqual({ lines: 16, skipped: 0, ignored: 4, events: 12 });
  });

  it("reports a resumed turn's own tokens: Codex's turn.completed carries the thread's running total", () => {
    const first = createCodexNormalizer({ workdir });
    normalize(sample("codex-tools.jsonl"), first);
    const resumed = createCodexNormalizer({ workdir, usageBaseline: first.usageTotal });
    const events = normalize(sample("codex-resume.jsonl"), resumed);
    expect(events.map((event) => event.type)).toEqual(["agent.session", "agent.message", "agent.usage"]);
    expect(resumed.sessionId).toBe(first.sessionId);
    // The recording's server charged 1,200 in / 80 out / 1,000 cached per request; the resumed turn made one.
    expect(events.at(-1)?.payload).toEqual({ inputTokens: 1200, outputTokens: 80, cachedTokens: 1000 });
    // Without the baseline the total leaks through.
    const naive = normalize(sample("codex-resume.jsonl"));
    expect(naive.at(-1)?.payload).toEqual({ inputTokens: 10800, outputTokens: 720, cachedTokens: 9000 });
  });

  it("recognises a turn refused over budget (Codex keeps only the 429) and reports the error once", () => {
    const normalizer = createCodexNormalizer({ workdir });
    const events = normalize(sample("codex-budget.jsonl"), normalizer);
    expect(events.map((event) => event.type)).toEqual(["agent.session", "agent.error"]);
    expect(events[1]?.payload).toEqual({
      message: "exceeded retry limit, last status: 429 Too Many Requests",
    });
    expect(normalizer.failed).toBe(true);
    expect(normalizer.budgetExceeded).toBe(true);
    expect(normalizer.lastError).toContain("429");
  });
});

describe("Codex JSONL → Kiln events, edge cases", () => {
  it("never throws on lines it cannot read, and counts them", () => {
    const normalizer = createCodexNormalizer({ workdir });
    const weird = [
      "",
      "   ",
      "not json at all",
      "{truncated",
      "[1,2,3]",
      "null",
      '"a string"',
      line({ type: "some.future.event", data: 1 }),
      line({ type: "item.completed" }),
      line({ type: "item.completed", item: { type: "agent_message" } }),
      line({ type: "thread.started" }),
      line({ type: "turn.completed", usage: { input_tokens: "many" } }),
    ];
    expect(normalize(weird, normalizer)).toEqual([]);
    expect(normalizer.stats).toMatchObject({ lines: 10, skipped: 10, ignored: 0, events: 0 });
  });

  it("ignores item types Kiln does not show, and items whose shape it does not know", () => {
    const normalizer = createCodexNormalizer({ workdir });
    const events = normalize(
      [
        line({ type: "item.completed", item: { id: "i1", type: "mcp_tool_call", server: "x", tool: "y" } }),
        line({ type: "item.completed", item: { id: "i2", type: "web_search", query: "q" } }),
        line({ type: "item.completed", item: { id: "i3", type: "hologram", beam: true } }),
        line({ type: "turn.started" }),
      ],
      normalizer,
    );
    expect(events).toEqual([]);
    expect(normalizer.stats).toMatchObject({ lines: 4, skipped: 0, ignored: 4 });
  });

  it("maps todo lists (on every update), error items and turn failures", () => {
    const todo = (phase: string, completed: boolean) =>
      line({
        type: phase,
        item: {
          id: "item_9",
          type: "todo_list",
          items: [
            { text: "Write the migration", completed: true },
            { text: "Build", completed },
          ],
        },
      });
    const normalizer = createCodexNormalizer({ workdir });
    const events = normalize(
      [
        todo("item.started", false),
        todo("item.updated", true),
        line({
          type: "item.completed",
          item: { id: "item_10", type: "error", message: "Model metadata not found" },
        }),
        line({ type: "error", message: "stream disconnected" }),
        line({ type: "turn.failed", error: { message: "stream disconnected" } }),
      ],
      normalizer,
    );
    expect(events).toEqual([
      {
        type: "agent.todo",
        payload: {
          itemId: "item_9",
          items: [
            { text: "Write the migration", done: true },
            { text: "Build", done: false },
          ],
        },
      },
      {
        type: "agent.todo",
        payload: {
          itemId: "item_9",
          items: [
            { text: "Write the migration", done: true },
            { text: "Build", done: true },
          ],
        },
      },
      { type: "agent.error", payload: { message: "Model metadata not found" } },
      { type: "agent.error", payload: { message: "stream disconnected" } },
    ]);
    expect(normalizer.failed).toBe(true);
    expect(normalizer.budgetExceeded).toBe(false);
  });

  it("reports a command that never completed as failed when the output ends", () => {
    const events = normalize([
      line({
        type: "item.started",
        item: {
          id: "c1",
          type: "command_execution",
          command: "sleep 1000",
          aggregated_output: "",
          exit_code: null,
        },
      }),
    ]);
    expect(events.map((event) => event.payload)).toEqual([
      { itemId: "c1", command: "sleep 1000", output: "", exitCode: null, status: "running" },
      { itemId: "c1", command: "sleep 1000", output: "", exitCode: null, status: "failed" },
    ]);
  });

  it("keeps paths outside the workdir absolute, skips failed patches, reads older change kinds", () => {
    const events = normalize([
      line({
        type: "item.completed",
        item: {
          id: "f1",
          type: "file_change",
          status: "completed",
          changes: [
            { path: "/etc/hosts", kind: "update" },
            { path: `${workdir}/src/a.ts`, kind: { type: "update", move_path: null } },
            { path: `${workdir}-other/b.ts`, kind: "add" },
          ],
        },
      }),
      line({
        type: "item.completed",
        item: { id: "f2", type: "file_change", status: "failed", changes: [{ path: "x", kind: "add" }] },
      }),
    ]);
    expect(events).toEqual([
      {
        type: "agent.file_change",
        payload: {
          itemId: "f1",
          changes: [
            { path: "/etc/hosts", kind: "update" },
            { path: "src/a.ts", kind: "update" },
            { path: `${workdir}-other/b.ts`, kind: "add" },
          ],
        },
      },
    ]);
  });

  it("caps huge text fields with a marker, keeping the start and the end", () => {
    const output = `START${"x".repeat(500_000)}END`;
    const events = normalize([
      line({
        type: "item.completed",
        item: {
          id: "c2",
          type: "command_execution",
          command: "yes",
          aggregated_output: output,
          exit_code: 0,
          status: "completed",
        },
      }),
      line({ type: "item.completed", item: { id: "m", type: "agent_message", text: "y".repeat(300_000) } }),
    ]);
    for (const event of events) expect(eventBodySchema.safeParse(event).success).toBe(true);
    const command = events[0];
    if (command?.type !== "agent.command") throw new Error("expected a command");
    expect(command.payload.output).toHaveLength(maxTextChars);
    expect(command.payload.output.startsWith("STARTxx")).toBe(true);
    expect(command.payload.output.endsWith("xxEND")).toBe(true);
    expect(command.payload.output).toContain("…[truncated]");
  });

  it("never reports negative usage when a total goes backwards", () => {
    const normalizer = createCodexNormalizer({
      workdir,
      usageBaseline: { inputTokens: 5000, outputTokens: 500, cachedTokens: 4000 },
    });
    const events = normalize(
      [
        line({
          type: "turn.completed",
          usage: { input_tokens: 100, cached_input_tokens: 0, output_tokens: 10 },
        }),
      ],
      normalizer,
    );
    expect(events).toEqual([
      { type: "agent.usage", payload: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 } },
    ]);
  });
});
