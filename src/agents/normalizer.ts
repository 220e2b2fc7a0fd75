import type { z } from "zod";
import type { EventBody } from "../server/events/schema";

/**
 * Turns an agent CLI's JSONL, one line at a time, into Kiln events. Stateful (a command's start and its result
 * arrive on different lines) and total: a malformed or unknown line is counted, never thrown.
 */
export interface AgentNormalizer {
  push(line: string): EventBody[];
  /** At the end of the CLI's output: commands that started but never finished are reported failed. */
  end(): EventBody[];
  readonly stats: NormalizerStats;
  /** The Codex thread id / Claude Code session id, once seen: what the next turn resumes. */
  readonly sessionId: string | undefined;
  /** True when the CLI reported the turn failed (Codex `turn.failed`, Claude Code `result.is_error`). */
  readonly failed: boolean;
  /** The last error the CLI reported, for the failure reason. */
  readonly lastError: string | undefined;
  /** The model gateway refused a request over the run's budget. */
  readonly budgetExceeded: boolean;
  /**
   * For a CLI that reports its session's running token total rather than the turn's (Codex): the total after
   * this turn, which the next turn of the same session starts from.
   */
  readonly usageTotal?: TokenUsage;
}

export type NormalizerOptions = {
  /** The run's working directory: paths inside it are shown relative to it. */
  workdir: string;
  /** The session's token total before this turn, for a CLI that reports running totals (see `usageTotal`). */
  usageBaseline?: TokenUsage;
};

export type NormalizerStats = {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that were not JSON or not a shape this normalizer knows. */
  skipped: number;
  /** Known lines with nothing to show (turn started, retries, tools Kiln does not display). */
  ignored: number;
  events: number;
};

export type TokenUsage = { inputTokens: number; outputTokens: number; cachedTokens: number };

export const zeroUsage: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

export function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export function nonNegative(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * One JSONL line through a normalizer: blank lines are nothing, lines that are not the CLI's known shape are counted
 * as skipped (never thrown on: a CLI update must not break a run), and mapped ones are counted.
 */
export function normalizeLine<T>(
  line: string,
  schema: z.ZodType<T>,
  stats: NormalizerStats,
  map: (value: T) => EventBody[],
): EventBody[] {
  if (!line.trim()) return [];
  stats.lines += 1;
  const parsed = schema.safeParse(parseJsonLine(line));
  if (!parsed.success) {
    stats.skipped += 1;
    return [];
  }
  const events = map(parsed.data);
  if (events.length === 0) stats.ignored += 1;
  stats.events += events.length;
  return events;
}
