import { z } from "zod";
import type { EventBody } from "../../server/events/schema";
import { capShort, capText, relativeToWorkdir } from "../event-text";
import {
  type AgentNormalizer,
  type NormalizerOptions,
  type NormalizerStats,
  nonNegative,
  normalizeLine,
} from "../normalizer";

// Claude Code `-p --output-format stream-json --verbose` (see docs CONTRACTS.md and the recorded samples in
// tests/fixtures/agent-output/claude-*.jsonl). One assistant line per content block; tool results come back as
// user lines; `result` closes the run.

const blockSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("thinking"), thinking: z.string() }),
  z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal("tool_result"),
    tool_use_id: z.string(),
    content: z.unknown(),
    is_error: z.boolean().optional(),
  }),
]);
type Block = z.infer<typeof blockSchema>;

const lineSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("system"), subtype: z.string().optional(), session_id: z.string().optional() }),
  z.object({
    type: z.literal("assistant"),
    uuid: z.string().optional(),
    message: z.object({
      id: z.string().optional(),
      model: z.string().optional(),
      content: z.array(z.unknown()),
    }),
  }),
  z.object({
    type: z.literal("user"),
    message: z.object({ content: z.union([z.string(), z.array(z.unknown())]) }),
    tool_use_result: z.unknown().optional(),
  }),
  z.object({
    type: z.literal("result"),
    subtype: z.string().optional(),
    is_error: z.boolean().optional(),
    result: z.string().optional(),
    errors: z.array(z.string()).optional(),
    api_error_type: z.string().optional(),
    usage: z
      .object({
        input_tokens: z.number().optional(),
        output_tokens: z.number().optional(),
        cache_read_input_tokens: z.number().optional(),
        cache_creation_input_tokens: z.number().optional(),
      })
      .optional(),
  }),
]);
type Line = z.infer<typeof lineSchema>;

const filePathInput = z.object({ file_path: z.string() });
const notebookInput = z.object({ notebook_path: z.string() });
const bashInput = z.object({ command: z.string() });
const todoWriteInput = z.object({
  todos: z.array(z.object({ content: z.string(), status: z.string() })),
});
const taskCreateInput = z.object({ subject: z.string() });
const taskUpdateInput = z.object({
  taskId: z.string(),
  status: z.string().optional(),
  subject: z.string().optional(),
});
const createdTask = z.object({ task: z.object({ id: z.string() }) });
const writeResult = z.object({ type: z.string() });

/** A tool call waiting for its result (matched by the tool_use id). */
type Pending =
  | { kind: "command"; command: string }
  | { kind: "write"; path: string }
  | { kind: "edit"; path: string }
  | { kind: "task-create"; subject: string }
  | { kind: "task-update"; taskId: string; status?: string; subject?: string };

/** Claude Code's task tools keep one list per session; Kiln shows it as one todo item that updates. */
const tasksItemId = "claude-tasks";
/** TodoWrite (older Claude Code) replaces its whole list on every call. */
const todosItemId = "claude-todos";

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string") {
      texts.push(part.text);
    }
  }
  return texts.join("\n");
}

export class ClaudeNormalizer implements AgentNormalizer {
  readonly stats: NormalizerStats = { lines: 0, skipped: 0, ignored: 0, events: 0 };
  sessionId: string | undefined;
  failed = false;
  lastError: string | undefined;
  budgetExceeded = false;
  private readonly pending = new Map<string, Pending>();
  private readonly tasks = new Map<string, { text: string; status: string }>();

  constructor(private readonly options: NormalizerOptions) {}

  push(line: string): EventBody[] {
    return normalizeLine(line, lineSchema, this.stats, (value) => this.map(value));
  }

  end(): EventBody[] {
    const events: EventBody[] = [];
    for (const [itemId, call] of this.pending) {
      if (call.kind !== "command") continue;
      events.push({
        type: "agent.command",
        payload: { itemId, command: call.command, output: "", exitCode: null, status: "failed" },
      });
    }
    this.pending.clear();
    this.stats.events += events.length;
    return events;
  }

  private map(line: Line): EventBody[] {
    switch (line.type) {
      case "system":
        if (line.subtype !== "init" || !line.session_id) return [];
        this.sessionId = line.session_id;
        return [{ type: "agent.session", payload: { sessionId: capShort(line.session_id) } }];
      case "assistant":
        // "<synthetic>" messages are the CLI's own (e.g. an API error's text); the result line reports those.
        if (line.message.model === "<synthetic>") return [];
        return this.blocks(line.message.content, line.uuid ?? line.message.id ?? "message", undefined);
      case "user":
        return typeof line.message.content === "string"
          ? []
          : this.blocks(line.message.content, "user", line.tool_use_result);
      case "result":
        return this.result(line);
    }
  }

  private blocks(content: unknown[], lineId: string, toolUseResult: unknown): EventBody[] {
    const events: EventBody[] = [];
    content.forEach((raw, index) => {
      const parsed = blockSchema.safeParse(raw);
      if (!parsed.success) return;
      const itemId = capShort(content.length > 1 ? `${lineId}-${index}` : lineId);
      events.push(...this.block(parsed.data, itemId, toolUseResult));
    });
    return events;
  }

  private block(block: Block, itemId: string, toolUseResult: unknown): EventBody[] {
    switch (block.type) {
      case "text":
        return block.text.trim()
          ? [{ type: "agent.message", payload: { itemId, text: capText(block.text) } }]
          : [];
      case "thinking":
        return block.thinking.trim()
          ? [{ type: "agent.reasoning", payload: { itemId, text: capText(block.thinking) } }]
          : [];
      case "tool_use":
        return this.toolUse(capShort(block.id), block.name, block.input);
      case "tool_result":
        return this.toolResult(block, toolUseResult);
    }
  }

  private toolUse(id: string, name: string, input: unknown): EventBody[] {
    if (name === "Bash") {
      const parsed = bashInput.safeParse(input);
      if (!parsed.success) return [];
      const command = capText(parsed.data.command);
      this.pending.set(id, { kind: "command", command });
      return [
        {
          type: "agent.command",
          payload: { itemId: id, command, output: "", exitCode: null, status: "running" },
        },
      ];
    }
    if (name === "Write" || name === "Edit" || name === "MultiEdit") {
      const parsed = filePathInput.safeParse(input);
      if (parsed.success) {
        this.pending.set(id, { kind: name === "Write" ? "write" : "edit", path: parsed.data.file_path });
      }
      return [];
    }
    if (name === "NotebookEdit") {
      const parsed = notebookInput.safeParse(input);
      if (parsed.success) this.pending.set(id, { kind: "edit", path: parsed.data.notebook_path });
      return [];
    }
    if (name === "TodoWrite") {
      const parsed = todoWriteInput.safeParse(input);
      if (!parsed.success) return [];
      const items = parsed.data.todos
        .slice(0, 200)
        .map((todo) => ({ text: capShort(todo.content), done: todo.status === "completed" }));
      return [{ type: "agent.todo", payload: { itemId: todosItemId, items } }];
    }
    if (name === "TaskCreate") {
      const parsed = taskCreateInput.safeParse(input);
      if (parsed.success) this.pending.set(id, { kind: "task-create", subject: parsed.data.subject });
      return [];
    }
    if (name === "TaskUpdate") {
      const parsed = taskUpdateInput.safeParse(input);
      if (parsed.success) this.pending.set(id, { kind: "task-update", ...parsed.data });
      return [];
    }
    return [];
  }

  private toolResult(block: Extract<Block, { type: "tool_result" }>, toolUseResult: unknown): EventBody[] {
    const itemId = capShort(block.tool_use_id);
    const call = this.pending.get(itemId);
    if (!call) return [];
    this.pending.delete(itemId);
    const output = resultText(block.content);
    const isError = block.is_error === true;
    switch (call.kind) {
      case "command": {
        const code = isError ? /^Exit code (\d+)/.exec(output) : null;
        const exitCode = isError ? (code ? Number(code[1]) : null) : 0;
        return [
          {
            type: "agent.command",
            payload: {
              itemId,
              command: call.command,
              output: capText(output),
              exitCode,
              status: isError ? "failed" : "completed",
            },
          },
        ];
      }
      case "write":
      case "edit": {
        if (isError) return [];
        const created = call.kind === "write" && writeResult.safeParse(toolUseResult).data?.type === "create";
        const change = {
          path: capShort(relativeToWorkdir(call.path, this.options.workdir)),
          kind: created ? ("add" as const) : ("update" as const),
        };
        return [{ type: "agent.file_change", payload: { itemId, changes: [change] } }];
      }
      case "task-create": {
        if (isError) return [];
        const taskId = createdTask.safeParse(toolUseResult).data?.task.id ?? /Task #(\w+)/.exec(output)?.[1];
        if (!taskId) return [];
        this.tasks.set(taskId, { text: call.subject, status: "pending" });
        return [this.taskList()];
      }
      case "task-update": {
        const task = this.tasks.get(call.taskId);
        if (isError || !task) return [];
        if (call.status === "deleted") this.tasks.delete(call.taskId);
        else
          this.tasks.set(call.taskId, {
            text: call.subject ?? task.text,
            status: call.status ?? task.status,
          });
        return [this.taskList()];
      }
    }
  }

  private taskList(): EventBody {
    const items = [...this.tasks.values()]
      .slice(0, 200)
      .map((task) => ({ text: capShort(task.text), done: task.status === "completed" }));
    return { type: "agent.todo", payload: { itemId: tasksItemId, items } };
  }

  private result(line: Extract<Line, { type: "result" }>): EventBody[] {
    const events: EventBody[] = [];
    const usage = line.usage;
    if (usage) {
      const cached = nonNegative(usage.cache_read_input_tokens);
      // Kiln counts input like the gateway does: every input token, cache reads and writes included.
      const input = nonNegative(usage.input_tokens) + cached + nonNegative(usage.cache_creation_input_tokens);
      const output = nonNegative(usage.output_tokens);
      // Claude Code's result usage is this run's (its total_cost_usd is cumulative across resumes: not used).
      if (input + output > 0) {
        events.push({
          type: "agent.usage",
          payload: { inputTokens: input, outputTokens: output, cachedTokens: cached },
        });
      }
    }
    if (line.is_error) {
      this.failed = true;
      const message =
        line.result?.trim() ||
        line.errors?.join("; ") ||
        `Claude Code ended with ${line.subtype ?? "an error"}`;
      if (line.api_error_type === "budget_exceeded" || /budget exceeded/i.test(message)) {
        this.budgetExceeded = true;
      }
      this.lastError = message;
      events.push({ type: "agent.error", payload: { message: capText(message) } });
    }
    return events;
  }
}

export function createClaudeNormalizer(options: NormalizerOptions): ClaudeNormalizer {
  return new ClaudeNormalizer(options);
}
