import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createClaudeNormalizer } from "@/agents/claude-code/normalizer";
import { type EventBody, eventBodySchema } from "@/server/events/schema";

// Real Claude Code 2.1.329 output, recorded by tests/fixtures/agent-output/record.ts in /tmp/kiln-agent-sample/work.
const workdir = "/tmp/kiln-agent-sample/work";
const fixtures = path.resolve("tests/fixtures/agent-output");

function sample(name: string): string[] {
  return fs.readFileSync(path.join(fixtures, name), "utf8").split("\n");
}

function normalize(lines: string[], normalizer = createClaudeNormalizer({ workdir })): EventBody[] {
  const events = lines.flatMap((line) => normalizer.push(line));
  return [...events, ...normalizer.end()];
}

function line(value: unknown): string {
  return JSON.stringify(value);
}

function assistant(uuid: string, content: unknown[], model = "claude-sonnet-4-5"): string {
  return line({ type: "assistant", uuid, message: { id: "msg_1", model, content }, session_id: "s" });
}

function toolResult(id: string, content: unknown, isError?: boolean, toolUseResult?: unknown): string {
  return line({
    type: "user",
    message: {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: id, content, is_error: isError }],
    },
    tool_use_result: toolUseResult,
  });
}

describe("Claude Code stream-json → Kiln events, on recorded output", () => {
  it("maps a whole run: session, thinking, text, tasks, file writes and edits, commands, usage", () => {
    const normalizer = createClaudeNormalizer({ workdir });
    const events = normalize(sample("claude-tools.jsonl"), normalizer);
    for (const event of events) expect(eventBodySchema.parse(event)).toEqual(event);
    expect(events.map((event) => event.type)).toEqual([
      "agent.session",
      "agent.reasoning",
      "agent.message",
      "agent.todo",
      "agent.file_change",
      "agent.file_change",
      "agent.command",
      "agent.command",
      "agent.command",
      "agent.command",
      "agent.todo",
      "agent.todo",
      "agent.message",
      "agent.usage",
    ]);
    expect(normalizer.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events[0]?.payload).toEqual({ sessionId: normalizer.sessionId });
    expect(events[1]?.payload).toMatchObject({
      text: "The user wants hello.txt. I will track it as a task first.",
    });
    expect(events[2]?.payload).toMatchObject({ text: "I'll write the file, then check it." });
    // TaskCreate, then TaskUpdate to completed: one list that updates.
    expect(events[3]?.payload).toEqual({
      itemId: "claude-tasks",
      items: [{ text: "Write hello.txt", done: false }],
    });
    expect(events[10]?.payload).toEqual({
      itemId: "claude-tasks",
      items: [{ text: "Write hello.txt", done: true }],
    });
    // Write of a new file is an add (from the tool result), Edit an update; absolute paths made relative.
    expect(events[4]?.payload).toEqual({ itemId: "toolu_3", changes: [{ path: "hello.txt", kind: "add" }] });
    expect(events[5]?.payload).toEqual({
      itemId: "toolu_4",
      changes: [{ path: "hello.txt", kind: "update" }],
    });
    expect(events.slice(6, 10).map((event) => event.payload)).toEqual([
      { itemId: "toolu_5", command: "cat hello.txt && ls", output: "", exitCode: null, status: "running" },
      {
        itemId: "toolu_5",
        command: "cat hello.txt && ls",
        output: "hello, world\nhello.txt",
        exitCode: 0,
        status: "completed",
      },
      { itemId: "toolu_6", command: "echo oops >&2; exit 3", output: "", exitCode: null, status: "running" },
      {
        itemId: "toolu_6",
        command: "echo oops >&2; exit 3",
        output: "Exit code 3\noops",
        exitCode: 3,
        status: "failed",
      },
    ]);
    // TodoWrite (refused by this CLI version, but still the agent's stated plan).
    expect(events[11]?.payload).toEqual({
      itemId: "claude-todos",
      items: [{ text: "Write hello.txt", done: true }],
    });
    expect(events[12]?.payload).toMatchObject({ text: "Done (8 tool calls)." });
    // Input counted as the gateway counts it: uncached + cache reads + cache writes.
    expect(events[13]).toEqual({
      type: "agent.usage",
      payload: { inputTokens: 19800, outputTokens: 720, cachedTokens: 9000 },
    });
    expect(normalizer.failed).toBe(false);
    expect(normalizer.stats).toMatchObject({ lines: 22, skipped: 0, events: 14 });
  });

  it("gives every message its own item id (one assistant line per content block)", () => {
    const events = normalize(sample("claude-tools.jsonl"));
    const ids = events
      .filter((event) => event.type === "agent.message" || event.type === "agent.reasoning")
      .map((event) => ("itemId" in event.payload ? event.payload.itemId : ""));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("reports a resumed run's own usage (result usage is per run; total_cost_usd is cumulative and unused)", () => {
    const normalizer = createClaudeNormalizer({ workdir });
    const events = normalize(sample("claude-resume.jsonl"), normalizer);
    expect(events.map((event) => event.type)).toEqual(["agent.session", "agent.message", "agent.usage"]);
    expect(events[2]?.payload).toEqual({ inputTokens: 2200, outputTokens: 80, cachedTokens: 1000 });
  });

  it("recognises a run refused over budget from the gateway's error, without echoing the synthetic message", () => {
    const normalizer = createClaudeNormalizer({ workdir });
    const events = normalize(sample("claude-budget.jsonl"), normalizer);
    expect(events.map((event) => event.type)).toEqual(["agent.session", "agent.error"]);
    expect(events[1]?.payload).toEqual({
      message: expect.stringContaining("Budget exceeded: this run used its budget of 100,000 tokens"),
    });
    expect(normalizer.failed).toBe(true);
    expect(normalizer.budgetExceeded).toBe(true);
  });
});

describe("Claude Code stream-json → Kiln events, edge cases", () => {
  it("never throws on lines it cannot read, and counts them", () => {
    const normalizer = createClaudeNormalizer({ workdir });
    const weird = [
      "garbage",
      "{",
      "42",
      line({ type: "stream_event", event: { type: "content_block_delta" } }),
      line({ type: "assistant" }),
      line({ type: "assistant", message: { content: "not an array" } }),
      line({ type: "result", usage: "lots" }),
      line({ type: "system", subtype: "api_retry", attempt: 1 }),
      line({ type: "system", subtype: "init" }),
      assistant("u1", [{ type: "tool_use", id: "t1", name: "Bash", input: { cmd: "wrong field" } }]),
      assistant("u2", [{ type: "image", source: {} }, { type: "text" }]),
      line({ type: "user", message: { role: "user", content: "a plain prompt" } }),
      toolResult("never-asked", "output"),
    ];
    expect(normalize(weird, normalizer)).toEqual([]);
    expect(normalizer.stats).toMatchObject({ lines: 13, skipped: 7, ignored: 6, events: 0 });
  });

  it("completes commands with their output and exit code, and fails the ones left running", () => {
    const events = normalize([
      assistant("u1", [
        { type: "tool_use", id: "t1", name: "Bash", input: { command: "npm test" } },
        { type: "tool_use", id: "t2", name: "Bash", input: { command: "sleep 999" } },
      ]),
      toolResult("t1", [{ type: "text", text: "Exit code 1\n1 failing" }], true),
    ]);
    expect(events.map((event) => event.payload)).toEqual([
      { itemId: "t1", command: "npm test", output: "", exitCode: null, status: "running" },
      { itemId: "t2", command: "sleep 999", output: "", exitCode: null, status: "running" },
      { itemId: "t1", command: "npm test", output: "Exit code 1\n1 failing", exitCode: 1, status: "failed" },
      { itemId: "t2", command: "sleep 999", output: "", exitCode: null, status: "failed" },
    ]);
  });

  it("reports file changes only once they happened, relative to the workdir", () => {
    const events = normalize([
      assistant("u1", [
        { type: "tool_use", id: "w1", name: "Write", input: { file_path: `${workdir}/a.ts`, content: "x" } },
        { type: "tool_use", id: "w2", name: "Write", input: { file_path: `${workdir}/b.ts`, content: "x" } },
        { type: "tool_use", id: "e1", name: "MultiEdit", input: { file_path: "/elsewhere/c.ts", edits: [] } },
        { type: "tool_use", id: "n1", name: "NotebookEdit", input: { notebook_path: `${workdir}/n.ipynb` } },
      ]),
      toolResult("w1", "File created", false, { type: "create", filePath: `${workdir}/a.ts` }),
      toolResult("w2", "<tool_use_error>File has not been read yet</tool_use_error>", true),
      toolResult("e1", "ok"),
      toolResult("n1", "ok"),
    ]);
    expect(events).toEqual([
      { type: "agent.file_change", payload: { itemId: "w1", changes: [{ path: "a.ts", kind: "add" }] } },
      {
        type: "agent.file_change",
        payload: { itemId: "e1", changes: [{ path: "/elsewhere/c.ts", kind: "update" }] },
      },
      {
        type: "agent.file_change",
        payload: { itemId: "n1", changes: [{ path: "n.ipynb", kind: "update" }] },
      },
    ]);
  });

  it("keeps one task list across creates, updates and deletes", () => {
    const events = normalize([
      assistant("u1", [{ type: "tool_use", id: "c1", name: "TaskCreate", input: { subject: "Schema" } }]),
      toolResult("c1", "Task #1 created successfully: Schema"),
      assistant("u2", [{ type: "tool_use", id: "c2", name: "TaskCreate", input: { subject: "UI" } }]),
      toolResult("c2", "created", false, { task: { id: "2", subject: "UI" } }),
      assistant("u3", [
        { type: "tool_use", id: "p1", name: "TaskUpdate", input: { taskId: "1", status: "completed" } },
      ]),
      toolResult("p1", "Updated task #1 status"),
      assistant("u4", [
        { type: "tool_use", id: "p2", name: "TaskUpdate", input: { taskId: "2", status: "deleted" } },
      ]),
      toolResult("p2", "Deleted"),
      assistant("u5", [
        { type: "tool_use", id: "p3", name: "TaskUpdate", input: { taskId: "9", status: "completed" } },
      ]),
      toolResult("p3", "No such task", true),
    ]);
    expect(events.map((event) => event.payload)).toEqual([
      { itemId: "claude-tasks", items: [{ text: "Schema", done: false }] },
      {
        itemId: "claude-tasks",
        items: [
          { text: "Schema", done: false },
          { text: "UI", done: false },
        ],
      },
      {
        itemId: "claude-tasks",
        items: [
          { text: "Schema", done: true },
          { text: "UI", done: false },
        ],
      },
      { itemId: "claude-tasks", items: [{ text: "Schema", done: true }] },
    ]);
  });

  it("reports error results: max turns, execution errors, with their own text", () => {
    const maxTurns = createClaudeNormalizer({ workdir });
    expect(
      normalize(
        [line({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 50 })],
        maxTurns,
      ),
    ).toEqual([{ type: "agent.error", payload: { message: "Claude Code ended with error_max_turns" } }]);
    expect(maxTurns.failed).toBe(true);
    expect(maxTurns.budgetExceeded).toBe(false);

    const execution = createClaudeNormalizer({ workdir });
    const events = normalize(
      [
        line({
          type: "result",
          subtype: "error_during_execution",
          is_error: true,
          errors: ["tool crashed", "then gave up"],
          usage: { input_tokens: 10, output_tokens: 2 },
        }),
      ],
      execution,
    );
    expect(events).toEqual([
      { type: "agent.usage", payload: { inputTokens: 10, outputTokens: 2, cachedTokens: 0 } },
      { type: "agent.error", payload: { message: "tool crashed; then gave up" } },
    ]);
    expect(execution.lastError).toBe("tool crashed; then gave up");
  });

  it("caps huge text and skips empty thinking", () => {
    const events = normalize([
      assistant("u1", [
        { type: "thinking", thinking: "   ", signature: "x" },
        { type: "text", text: "z".repeat(250_000) },
      ]),
    ]);
    expect(events).toHaveLength(1);
    for (const event of events) expect(eventBodySchema.safeParse(event).success).toBe(true);
    expect(events[0]?.payload).toMatchObject({
      itemId: "u1-1",
      text: expect.stringContaining("…[truncated]"),
    });
  });
});
