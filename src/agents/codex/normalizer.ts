import { z } from "zod";
import type { EventBody } from "../../server/events/schema";
import { capShort, capText, relativeToWorkdir } from "../event-text";
import {
  type AgentNormalizer,
  type NormalizerOptions,
  type NormalizerStats,
  nonNegative,
  normalizeLine,
  type TokenUsage,
  zeroUsage,
} from "../normalizer";

// Codex `exec --json` (see docs CONTRACTS.md and the recorded samples in tests/fixtures/agent-output/codex-*.jsonl).

const itemBase = z.object({ id: z.string() });

const itemSchema = z.discriminatedUnion("type", [
  itemBase.extend({ type: z.literal("agent_message"), text: z.string() }),
  itemBase.extend({ type: z.literal("reasoning"), text: z.string() }),
  itemBase.extend({
    type: z.literal("command_execution"),
    command: z.string(),
    aggregated_output: z.string().default(""),
    exit_code: z.number().int().nullable().default(null),
    status: z.string().default("in_progress"),
  }),
  itemBase.extend({
    type: z.literal("file_change"),
    changes: z.array(
      z.object({
        path: z.string(),
        // A string today; older versions sent `{type: "update", move_path}`.
        kind: z.union([z.string(), z.object({ type: z.string() })]),
      }),
    ),
    status: z.string().default("completed"),
  }),
  itemBase.extend({
    type: z.literal("todo_list"),
    items: z.array(z.object({ text: z.string(), completed: z.boolean().default(false) })),
  }),
  itemBase.extend({ type: z.literal("error"), message: z.string() }),
]);

const usageSchema = z.object({
  input_tokens: z.number().optional(),
  cached_input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
});

const lineSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thread.started"), thread_id: z.string() }),
  z.object({ type: z.literal("turn.started") }),
  z.object({ type: z.literal("turn.completed"), usage: usageSchema.optional() }),
  z.object({
    type: z.literal("turn.failed"),
    error: z.object({ message: z.string() }).optional(),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
  z.object({
    type: z.enum(["item.started", "item.updated", "item.completed"]),
    item: z.looseObject({ type: z.string(), id: z.string() }),
  }),
]);

type Item = z.infer<typeof itemSchema>;
type Phase = "item.started" | "item.updated" | "item.completed";

/** Item types Codex emits that Kiln does not show. */
const ignoredItemTypes = new Set(["mcp_tool_call", "web_search", "collab_tool_call"]);

function fileKind(kind: string | { type: string }): "add" | "update" | "delete" {
  const name = typeof kind === "string" ? kind : kind.type;
  if (name === "add" || name === "create") return "add";
  if (name === "delete" || name === "remove") return "delete";
  return "update";
}

function isBudgetMessage(message: string): boolean {
  // Codex drops the gateway's error body and keeps only the status ("last status: 429 Too Many Requests"); the
  // gateway answers 429 only when the run is over budget.
  return /budget/i.test(message) || /\b429\b/.test(message);
}

/**
 * Codex reports the thread's running total in `turn.completed.usage`, not the turn's (a resumed thread starts from
 * the tokens of every earlier run): `usageBaseline` is the total already accounted for, so `agent.usage` carries
 * this run's.
 */
export class CodexNormalizer implements AgentNormalizer {
  readonly stats: NormalizerStats = { lines: 0, skipped: 0, ignored: 0, events: 0 };
  sessionId: string | undefined;
  failed = false;
  lastError: string | undefined;
  budgetExceeded = false;
  /** The thread's total as of the last `turn.completed` (the next turn's baseline). */
  usageTotal: TokenUsage;
  private readonly running = new Map<string, string>();

  constructor(private readonly options: NormalizerOptions) {
    this.usageTotal = options.usageBaseline ?? zeroUsage;
  }

  push(line: string): EventBody[] {
    return normalizeLine(line, lineSchema, this.stats, (value) => this.map(value));
  }

  end(): EventBody[] {
    const events: EventBody[] = [];
    for (const [itemId, command] of this.running) {
      events.push({
        type: "agent.command",
        payload: { itemId, command, output: "", exitCode: null, status: "failed" },
      });
    }
    this.running.clear();
    this.stats.events += events.length;
    return events;
  }

  private map(line: z.infer<typeof lineSchema>): EventBody[] {
    switch (line.type) {
      case "thread.started":
        this.sessionId = line.thread_id;
        return [{ type: "agent.session", payload: { sessionId: capShort(line.thread_id) } }];
      case "turn.started":
        return [];
      case "turn.completed":
        return line.usage ? [this.usage(line.usage)] : [];
      case "turn.failed":
        this.failed = true;
        return this.error(line.error?.message ?? "the turn failed");
      case "error":
        return this.error(line.message);
      default:
        return this.item(line.type, line.item);
    }
  }

  private usage(usage: z.infer<typeof usageSchema>): EventBody {
    const total: TokenUsage = {
      inputTokens: nonNegative(usage.input_tokens),
      outputTokens: nonNegative(usage.output_tokens),
      cachedTokens: nonNegative(usage.cached_input_tokens),
    };
    const before = this.usageTotal;
    this.usageTotal = total;
    return {
      type: "agent.usage",
      payload: {
        inputTokens: Math.max(0, total.inputTokens - before.inputTokens),
        outputTokens: Math.max(0, total.outputTokens - before.outputTokens),
        cachedTokens: Math.max(0, total.cachedTokens - before.cachedTokens),
      },
    };
  }

  private error(message: string): EventBody[] {
    if (isBudgetMessage(message)) this.budgetExceeded = true;
    // Codex repeats a fatal error as a top-level `error` and then `turn.failed`: show it once.
    if (message === this.lastError) return [];
    this.lastError = message;
    return [{ type: "agent.error", payload: { message: capText(message) } }];
  }

  private item(phase: Phase, raw: { type: string }): EventBody[] {
    if (ignoredItemTypes.has(raw.type)) return [];
    const parsed = itemSchema.safeParse(raw);
    if (!parsed.success) return [];
    const item: Item = parsed.data;
    const itemId = capShort(item.id);
    const completed = phase === "item.completed";
    switch (item.type) {
      case "agent_message":
        return completed ? [{ type: "agent.message", payload: { itemId, text: capText(item.text) } }] : [];
      case "reasoning":
        return completed ? [{ type: "agent.reasoning", payload: { itemId, text: capText(item.text) } }] : [];
      case "command_execution":
        return [this.command(completed, itemId, item)];
      case "file_change": {
        if (!completed || item.status === "failed" || item.changes.length === 0) return [];
        const changes = item.changes.slice(0, 1_000).map((change) => ({
          path: capShort(relativeToWorkdir(change.path, this.options.workdir)),
          kind: fileKind(change.kind),
        }));
        return [{ type: "agent.file_change", payload: { itemId, changes } }];
      }
      case "todo_list": {
        const items = item.items
          .slice(0, 200)
          .map((todo) => ({ text: capShort(todo.text), done: todo.completed }));
        return [{ type: "agent.todo", payload: { itemId, items } }];
      }
      case "error":
        // Warnings too (e.g. "Model metadata for `x` not found"): Codex files them as error items.
        this.lastError = item.message;
        return [{ type: "agent.error", payload: { message: capText(item.message) } }];
    }
  }

  private command(
    completed: boolean,
    itemId: string,
    item: Extract<Item, { type: "command_execution" }>,
  ): EventBody {
    const command = capText(item.command);
    const output = capText(item.aggregated_output);
    if (!completed) {
      this.running.set(itemId, command);
      return {
        type: "agent.command",
        payload: { itemId, command, output, exitCode: item.exit_code, status: "running" },
      };
    }
    this.running.delete(itemId);
    const ok = item.status === "completed" && (item.exit_code === null || item.exit_code === 0);
    return {
      type: "agent.command",
      payload: { itemId, command, output, exitCode: item.exit_code, status: ok ? "completed" : "failed" },
    };
  }
}

export function createCodexNormalizer(options: NormalizerOptions): CodexNormalizer {
  return new CodexNormalizer(options);
}
