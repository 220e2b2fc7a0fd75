import type { AnswerUsage, ChatAnswer, FinishReason, LiveDelta } from "./chat-answer";

/**
 * A Chat Completions answer as an Anthropic Messages answer, for Claude Code: `message_start`, content blocks
 * (text and thinking as they stream, tool_use blocks whole once the answer ends), `message_delta` with the stop
 * reason and usage, `message_stop`; or, for a non-streamed request, the message object. Input tokens are only
 * known at the end, so `message_start` says 0 and `message_delta` carries the real figures (as newer Anthropic
 * API versions do).
 */

type OpenBlock = { kind: "text" | "thinking"; index: number; text: string };

function sse(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

const stopReasons: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

export class MessagesWriter {
  readonly #answer: ChatAnswer;
  readonly #model: string;
  readonly #content: Record<string, unknown>[] = [];
  #open: OpenBlock | undefined;
  #started = false;
  #blocks = 0;

  constructor(answer: ChatAnswer, model: string) {
    this.#answer = answer;
    this.#model = model;
  }

  #message(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      id: `msg_${this.#answer.fallbackId}`,
      type: "message",
      role: "assistant",
      model: this.#answer.model ?? this.#model,
      content: this.#content,
      stop_reason: null,
      stop_sequence: null,
      ...extra,
    };
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    return (
      sse("message_start", {
        message: this.#message({ content: [], usage: { input_tokens: 0, output_tokens: 0 } }),
      }) + sse("ping", {})
    );
  }

  write(deltas: LiveDelta[]): string {
    let out = this.#start();
    for (const delta of deltas) {
      const kind = delta.kind === "text" ? "text" : "thinking";
      if (this.#open?.kind !== kind) {
        out += this.#close();
        const index = this.#blocks++;
        this.#open = { kind, index, text: "" };
        out += sse("content_block_start", {
          index,
          content_block:
            kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" },
        });
      }
      const open = this.#open;
      if (!open) continue;
      open.text += delta.text;
      out += sse("content_block_delta", {
        index: open.index,
        delta:
          kind === "text"
            ? { type: "text_delta", text: delta.text }
            : { type: "thinking_delta", thinking: delta.text },
      });
    }
    return out;
  }

  #close(): string {
    const open = this.#open;
    if (!open) return "";
    this.#open = undefined;
    this.#content.push(
      open.kind === "text"
        ? { type: "text", text: open.text }
        : { type: "thinking", thinking: open.text, signature: "" },
    );
    return sse("content_block_stop", { index: open.index });
  }

  end(usage: AnswerUsage): string {
    let out = this.#start() + this.#close();
    const answer = this.#answer;
    if (answer.error || answer.finishReason === undefined) {
      const message =
        answer.error?.message ?? "The model server's answer ended before it finished (no finish reason).";
      return `${out}${sse("error", { error: { type: "api_error", message } })}`;
    }
    if (answer.refusal) out += this.write([{ kind: "text", text: answer.refusal }]) + this.#close();
    for (const call of answer.toolCalls()) {
      const index = this.#blocks++;
      out += sse("content_block_start", {
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      });
      out += sse("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: call.arguments },
      });
      out += sse("content_block_stop", { index });
      this.#content.push({
        type: "tool_use",
        id: call.id,
        name: call.name,
        input: parseInput(call.arguments),
      });
    }
    const final = this.final(usage);
    return (
      out +
      sse("message_delta", {
        delta: { stop_reason: final.stop_reason, stop_sequence: null },
        usage: final.usage,
      }) +
      sse("message_stop", {})
    );
  }

  final(usage: AnswerUsage): Record<string, unknown> {
    const answer = this.#answer;
    // A model that called tools but said "stop" (some servers do) still wants the results.
    const reason =
      answer.toolCalls().length > 0
        ? "tool_use"
        : answer.refusal
          ? "refusal"
          : stopReasons[answer.finishReason ?? "stop"];
    return this.#message({
      stop_reason: reason,
      usage: {
        // Anthropic counts cache reads apart from input_tokens.
        input_tokens: usage.usage.inputTokens - usage.usage.cachedTokens,
        cache_read_input_tokens: usage.usage.cachedTokens,
        cache_creation_input_tokens: 0,
        output_tokens: usage.usage.outputTokens,
      },
    });
  }

  collect(deltas: LiveDelta[], usage: AnswerUsage): Record<string, unknown> {
    this.write(deltas);
    this.end(usage);
    return this.final(usage);
  }
}

function parseInput(args: string): unknown {
  try {
    return JSON.parse(args);
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
}
