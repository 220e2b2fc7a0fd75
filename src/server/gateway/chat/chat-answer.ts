import type { z } from "zod";
import type { TokenUsage } from "../prices";
import type { ChatChunk, ChatUsage, chatCompletionSchema } from "./chat-wire";
import { estimateTokensOfChars } from "./estimate-tokens";

/**
 * One Chat Completions answer as it arrives, independent of the protocol it is translated into: the text and
 * reasoning as live deltas, the tool calls assembled whole (their arguments come in pieces, keyed by index), how
 * it finished, and its usage. The writers (responses-writer.ts, messages-writer.ts) turn it into their wire.
 */

export type LiveDelta = { kind: "text" | "reasoning"; text: string };
export type AssembledToolCall = { id: string; name: string; arguments: string };
export type AnswerError = { message: string; code: string | undefined };
/** Chat's finish reasons; anything else a server invents is treated as "stop". */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export type AnswerUsage = { usage: TokenUsage; estimated: boolean };

type ToolCallDelta = NonNullable<
  NonNullable<NonNullable<ChatChunk["choices"]>[number]["delta"]>["tool_calls"]
>[number];

/** Tool call ids go back to the client, which may insist on Anthropic's id alphabet. */
function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

export class ChatAnswer {
  id: string | undefined;
  model: string | undefined;
  finishReason: FinishReason | undefined;
  error: AnswerError | undefined;
  refusal = "";
  #usage: ChatUsage | undefined;
  #outputChars = 0;
  readonly #calls: Array<{ id: string | undefined; name: string; arguments: string }> = [];
  /** Chat index → position in #calls. */
  readonly #byIndex = new Map<number, number>();

  constructor(readonly fallbackId: string) {}

  /** The live text and reasoning deltas of one chunk, in order; everything else is kept for the end. */
  push(chunk: ChatChunk): LiveDelta[] {
    if (chunk.id && !this.id) this.id = chunk.id;
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.#usage = chunk.usage;
    if (chunk.error) {
      this.error = {
        message: chunk.error.message ?? "The model server failed.",
        code: codeOf(chunk.error.code),
      };
    }
    const deltas: LiveDelta[] = [];
    // Only the first choice: the gateway never asks for `n` > 1.
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return deltas;
    const delta = choice.delta;
    const reasoning = delta?.reasoning_content ?? delta?.reasoning;
    if (reasoning) deltas.push({ kind: "reasoning", text: reasoning });
    if (delta?.content) deltas.push({ kind: "text", text: delta.content });
    if (delta?.refusal) this.refusal += delta.refusal;
    delta?.tool_calls?.forEach((call, position) => {
      this.#toolDelta(call, position);
    });
    for (const d of deltas) this.#outputChars += d.text.length;
    if (choice.finish_reason) this.finishReason = finishReasonOf(choice.finish_reason);
    return deltas;
  }

  /** A whole answer: the same, in one go. */
  take(completion: z.infer<typeof chatCompletionSchema>): LiveDelta[] {
    const choice = completion.choices?.[0];
    return this.push({
      id: completion.id,
      model: completion.model,
      usage: completion.usage,
      error: completion.error,
      choices: choice
        ? [
            {
              index: 0,
              delta: { ...choice.message, tool_calls: choice.message.tool_calls },
              finish_reason: choice.finish_reason ?? "stop",
            },
          ]
        : [],
    });
  }

  #toolDelta(call: ToolCallDelta, position: number): void {
    // Servers that send each call whole in one chunk (Ollama) may leave out `index`: its place in the array is it.
    let index = call.index ?? undefined;
    if (index === undefined) {
      const known = call.id ? this.#calls.findIndex((c) => c.id === call.id) : -1;
      index = known >= 0 ? [...this.#byIndex].find(([, at]) => at === known)?.[0] : undefined;
      index ??= call.id ? 10_000 + this.#calls.length : position;
    }
    let at = this.#byIndex.get(index);
    if (at === undefined) {
      at = this.#calls.push({ id: undefined, name: "", arguments: "" }) - 1;
      this.#byIndex.set(index, at);
    }
    const entry = this.#calls[at];
    if (!entry) return;
    if (call.id) entry.id = call.id;
    if (call.function?.name) entry.name += call.function.name;
    if (call.function?.arguments) {
      entry.arguments += call.function.arguments;
      this.#outputChars += call.function.arguments.length;
    }
  }

  toolCalls(): AssembledToolCall[] {
    return this.#calls
      .filter((call) => call.name)
      .map((call, n) => ({
        id: safeId(call.id ?? `call_${this.fallbackId}_${n}`),
        name: call.name,
        // Arguments are a JSON object; a call without any means "no arguments".
        arguments: call.arguments.trim() ? call.arguments : "{}",
      }));
  }

  /** The upstream's figures, or an estimate from what was sent and received when it reported none. */
  usage(estimatedInputTokens: number): AnswerUsage {
    if (this.#usage) {
      return {
        estimated: false,
        usage: {
          inputTokens: this.#usage.prompt_tokens,
          cachedTokens: Math.min(
            this.#usage.prompt_tokens_details?.cached_tokens ?? 0,
            this.#usage.prompt_tokens,
          ),
          cacheWriteTokens: 0,
          outputTokens: this.#usage.completion_tokens,
        },
      };
    }
    const names = this.#calls.reduce((sum, call) => sum + call.name.length, 0);
    return {
      estimated: true,
      usage: {
        inputTokens: estimatedInputTokens,
        cachedTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: estimateTokensOfChars(this.#outputChars + names),
      },
    };
  }

  hasReportedUsage(): boolean {
    return this.#usage !== undefined;
  }
}

function finishReasonOf(reason: string): FinishReason {
  if (reason === "length" || reason === "tool_calls" || reason === "content_filter") return reason;
  // Older servers say "function_call" for a tool call.
  if (reason === "function_call") return "tool_calls";
  return "stop";
}

function codeOf(code: string | number | null | undefined): string | undefined {
  return code === null || code === undefined ? undefined : String(code);
}
