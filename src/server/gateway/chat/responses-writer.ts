import type { AnswerUsage, ChatAnswer, LiveDelta } from "./chat-answer";

/**
 * A Chat Completions answer as an OpenAI Responses answer, for Codex: the event sequence Codex reads
 * (`response.created`, output items added / deltas / done, then `response.completed` with usage), or, for a
 * non-streamed request, the final response object. Text and reasoning stream as they come; tool calls are emitted
 * whole once the answer ends (their arguments are only JSON when complete).
 */

type OpenItem = { kind: "message" | "reasoning"; id: string; outputIndex: number; text: string };

function sse(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

export class ResponsesWriter {
  readonly #answer: ChatAnswer;
  readonly #model: string;
  readonly #customTools: ReadonlySet<string>;
  readonly #output: Record<string, unknown>[] = [];
  readonly #createdAt = Math.floor(Date.now() / 1000);
  #open: OpenItem | undefined;
  #started = false;
  #seq = 0;
  #items = 0;

  constructor(answer: ChatAnswer, model: string, customTools: ReadonlySet<string>) {
    this.#answer = answer;
    this.#model = model;
    this.#customTools = customTools;
  }

  get #id(): string {
    return `resp_${this.#answer.fallbackId}`;
  }

  #event(event: string, data: Record<string, unknown>): string {
    return sse(event, { ...data, sequence_number: this.#seq++ });
  }

  #response(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: this.#id,
      object: "response",
      created_at: this.#createdAt,
      status,
      model: this.#answer.model ?? this.#model,
      output: this.#output,
      error: null,
      incomplete_details: null,
      ...extra,
    };
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const response = this.#response("in_progress", { output: [] });
    return this.#event("response.created", { response }) + this.#event("response.in_progress", { response });
  }

  /** Live deltas as Responses events. */
  write(deltas: LiveDelta[]): string {
    let out = this.#start();
    for (const delta of deltas) {
      if (this.#open?.kind !== (delta.kind === "text" ? "message" : "reasoning")) {
        out += this.#close();
        out += this.#openItem(delta.kind === "text" ? "message" : "reasoning");
      }
      const open = this.#open;
      if (!open) continue;
      open.text += delta.text;
      out += this.#event(
        open.kind === "message" ? "response.output_text.delta" : "response.reasoning_text.delta",
        {
          item_id: open.id,
          output_index: open.outputIndex,
          content_index: 0,
          delta: delta.text,
        },
      );
    }
    return out;
  }

  #openItem(kind: OpenItem["kind"]): string {
    const id = `${kind === "message" ? "msg" : "rs"}_${this.#answer.fallbackId}_${this.#items}`;
    const open: OpenItem = { kind, id, outputIndex: this.#items++, text: "" };
    this.#open = open;
    if (kind === "message") {
      return (
        this.#event("response.output_item.added", {
          output_index: open.outputIndex,
          item: { type: "message", id, status: "in_progress", role: "assistant", content: [] },
        }) +
        this.#event("response.content_part.added", {
          item_id: id,
          output_index: open.outputIndex,
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [] },
        })
      );
    }
    return this.#event("response.output_item.added", {
      output_index: open.outputIndex,
      item: { type: "reasoning", id, summary: [] },
    });
  }

  #close(): string {
    const open = this.#open;
    if (!open) return "";
    this.#open = undefined;
    if (open.kind === "message") {
      const part = { type: "output_text", text: open.text, annotations: [] };
      const item = { type: "message", id: open.id, status: "completed", role: "assistant", content: [part] };
      this.#output.push(item);
      return (
        this.#event("response.output_text.done", {
          item_id: open.id,
          output_index: open.outputIndex,
          content_index: 0,
          text: open.text,
        }) +
        this.#event("response.content_part.done", {
          item_id: open.id,
          output_index: open.outputIndex,
          content_index: 0,
          part,
        }) +
        this.#event("response.output_item.done", { output_index: open.outputIndex, item })
      );
    }
    const item = {
      type: "reasoning",
      id: open.id,
      summary: [],
      content: [{ type: "reasoning_text", text: open.text }],
    };
    this.#output.push(item);
    return (
      this.#event("response.reasoning_text.done", {
        item_id: open.id,
        output_index: open.outputIndex,
        content_index: 0,
        text: open.text,
      }) + this.#event("response.output_item.done", { output_index: open.outputIndex, item })
    );
  }

  /** The rest of the answer: tool calls, then how it ended (completed, incomplete, or failed) with its usage. */
  end(usage: AnswerUsage): string {
    let out = this.#start() + this.#close();
    if (this.#answer.refusal) {
      const id = `msg_${this.#answer.fallbackId}_${this.#items}`;
      const item = {
        type: "message",
        id,
        status: "completed",
        role: "assistant",
        content: [{ type: "refusal", refusal: this.#answer.refusal }],
      };
      this.#output.push(item);
      out += this.#event("response.output_item.done", { output_index: this.#items++, item });
    }
    for (const call of this.#answer.toolCalls()) {
      const outputIndex = this.#items++;
      const itemId = `fc_${call.id}`;
      const custom = this.#customTools.has(call.name);
      const item = custom
        ? {
            type: "custom_tool_call",
            id: itemId,
            call_id: call.id,
            name: call.name,
            input: freeformInput(call.arguments),
            status: "completed",
          }
        : {
            type: "function_call",
            id: itemId,
            call_id: call.id,
            name: call.name,
            arguments: call.arguments,
            status: "completed",
          };
      out += this.#event("response.output_item.added", {
        output_index: outputIndex,
        item: custom
          ? { ...item, input: "", status: "in_progress" }
          : { ...item, arguments: "", status: "in_progress" },
      });
      if (!custom) {
        out += this.#event("response.function_call_arguments.delta", {
          item_id: itemId,
          output_index: outputIndex,
          delta: call.arguments,
        });
        out += this.#event("response.function_call_arguments.done", {
          item_id: itemId,
          output_index: outputIndex,
          arguments: call.arguments,
        });
      }
      this.#output.push(item);
      out += this.#event("response.output_item.done", { output_index: outputIndex, item });
    }
    const final = this.final(usage);
    const event =
      final.status === "failed"
        ? "response.failed"
        : final.status === "incomplete"
          ? "response.incomplete"
          : "response.completed";
    return out + this.#event(event, { response: final });
  }

  /** The whole response object (a non-streamed answer, and the payload of the last event). */
  final(usage: AnswerUsage): Record<string, unknown> {
    const answer = this.#answer;
    const usageBody = {
      input_tokens: usage.usage.inputTokens,
      input_tokens_details: { cached_tokens: usage.usage.cachedTokens },
      output_tokens: usage.usage.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.usage.inputTokens + usage.usage.outputTokens,
    };
    if (answer.error || answer.finishReason === undefined) {
      const message =
        answer.error?.message ?? "The model server's answer ended before it finished (no finish reason).";
      return this.#response("failed", {
        error: { code: answer.error?.code ?? "server_error", message },
        usage: usageBody,
      });
    }
    if (answer.finishReason === "length") {
      return this.#response("incomplete", {
        incomplete_details: { reason: "max_output_tokens" },
        usage: usageBody,
      });
    }
    if (answer.finishReason === "content_filter") {
      return this.#response("incomplete", {
        incomplete_details: { reason: "content_filter" },
        usage: usageBody,
      });
    }
    return this.#response("completed", { usage: usageBody });
  }

  /** For a non-streamed answer: collect the items the events would have carried. */
  collect(deltas: LiveDelta[], usage: AnswerUsage): Record<string, unknown> {
    this.write(deltas);
    this.end(usage);
    return this.final(usage);
  }
}

/** A freeform tool's call came back as `{"input": "…"}` (how it was offered); a model that answered raw text keeps it. */
function freeformInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "input" in parsed &&
      typeof parsed.input === "string"
    ) {
      return parsed.input;
    }
    return typeof parsed === "string" ? parsed : args;
  } catch (error) {
    if (error instanceof SyntaxError) return args;
    throw error;
  }
}
