import { z } from "zod";
import type { TokenUsage } from "./prices";
import type { GatewayProtocol } from "./protocols";
import { SseParser } from "./sse-parser";

/**
 * Reads token usage from a copy of the upstream answer as it streams past:
 * - OpenAI Responses: `response.completed` (or `response.incomplete` / `response.failed`) carries
 *   `response.usage {input_tokens, output_tokens, input_tokens_details.cached_tokens}`; input includes cached.
 * - Anthropic Messages: `message_start.message.usage` has the input side (`input_tokens` excludes
 *   `cache_read_input_tokens` and `cache_creation_input_tokens`), `message_delta.usage` the cumulative output
 *   count (and, in newer API versions, final input figures); the latest value of each field wins.
 * Non-streaming JSON answers carry the same `usage` objects at the top level. Shapes are checked with zod and
 * anything unexpected is ignored: metering must never break the stream it reads.
 */

export type ObservedUsage = {
  model: string | undefined;
  usage: TokenUsage;
  /** Kiln's estimate, not the upstream's figures (an upstream that reported no usage). */
  estimated?: boolean;
};

export interface UsageTracker {
  push(chunk: Uint8Array): void;
  /** Call when the body ended (or was cut): what the stream reported so far, or undefined if nothing. */
  finish(): ObservedUsage | undefined;
}

const count = z.number().int().nonnegative();
const openaiUsageSchema = z.object({
  input_tokens: count,
  output_tokens: count,
  input_tokens_details: z.object({ cached_tokens: count.nullish() }).nullish(),
});
const openaiResponseSchema = z.object({
  model: z.string().nullish(),
  usage: openaiUsageSchema.nullish(),
});
const openaiEventSchema = z.object({ type: z.string(), response: openaiResponseSchema.nullish() });

const anthropicUsageSchema = z.object({
  input_tokens: count.nullish(),
  output_tokens: count.nullish(),
  cache_read_input_tokens: count.nullish(),
  cache_creation_input_tokens: count.nullish(),
});
const anthropicMessageSchema = z.object({
  model: z.string().nullish(),
  usage: anthropicUsageSchema.nullish(),
});
const anthropicEventSchema = z.object({
  type: z.string(),
  message: anthropicMessageSchema.nullish(),
  usage: anthropicUsageSchema.nullish(),
});

const openaiUsageEvents = new Set(["response.completed", "response.incomplete", "response.failed"]);
const anthropicUsageEvents = new Set(["message_start", "message_delta"]);

/** Non-streaming bodies are parsed whole at the end; past this size they are not metered. */
const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

class OpenAIUsage {
  model: string | undefined;
  usage: TokenUsage | undefined;

  take(response: z.infer<typeof openaiResponseSchema>): void {
    if (response.model) this.model = response.model;
    if (!response.usage) return;
    this.usage = {
      inputTokens: response.usage.input_tokens,
      cachedTokens: response.usage.input_tokens_details?.cached_tokens ?? 0,
      cacheWriteTokens: 0,
      outputTokens: response.usage.output_tokens,
    };
  }

  onEvent(data: string): void {
    const event = openaiEventSchema.safeParse(parseJson(data));
    if (event.success && openaiUsageEvents.has(event.data.type) && event.data.response) {
      this.take(event.data.response);
    }
  }

  onBody(json: unknown): void {
    const response = openaiResponseSchema.safeParse(json);
    if (response.success) this.take(response.data);
  }

  result(): ObservedUsage | undefined {
    return this.usage ? { model: this.model, usage: this.usage } : undefined;
  }
}

class AnthropicUsage {
  model: string | undefined;
  input: number | undefined;
  cacheRead = 0;
  cacheWrite = 0;
  output = 0;

  take(usage: z.infer<typeof anthropicUsageSchema>): void {
    if (usage.input_tokens != null) this.input = usage.input_tokens;
    if (usage.cache_read_input_tokens != null) this.cacheRead = usage.cache_read_input_tokens;
    if (usage.cache_creation_input_tokens != null) this.cacheWrite = usage.cache_creation_input_tokens;
    if (usage.output_tokens != null) this.output = usage.output_tokens;
  }

  onEvent(data: string): void {
    const event = anthropicEventSchema.safeParse(parseJson(data));
    if (!event.success) return;
    if (event.data.type === "message_start" && event.data.message) {
      if (event.data.message.model) this.model = event.data.message.model;
      if (event.data.message.usage) this.take(event.data.message.usage);
    } else if (event.data.type === "message_delta" && event.data.usage) {
      this.take(event.data.usage);
    }
  }

  onBody(json: unknown): void {
    const message = anthropicMessageSchema.safeParse(json);
    if (!message.success) return;
    if (message.data.model) this.model = message.data.model;
    if (message.data.usage) this.take(message.data.usage);
  }

  result(): ObservedUsage | undefined {
    if (this.input === undefined) return undefined;
    return {
      model: this.model,
      usage: {
        inputTokens: this.input + this.cacheRead + this.cacheWrite,
        cachedTokens: this.cacheRead,
        cacheWriteTokens: this.cacheWrite,
        outputTokens: this.output,
      },
    };
  }
}

class SseUsageTracker implements UsageTracker {
  readonly #parser: SseParser;
  readonly #reader: OpenAIUsage | AnthropicUsage;

  constructor(protocol: GatewayProtocol) {
    const reader = protocol === "openai-responses" ? new OpenAIUsage() : new AnthropicUsage();
    const interesting = protocol === "openai-responses" ? openaiUsageEvents : anthropicUsageEvents;
    this.#reader = reader;
    this.#parser = new SseParser({
      wants: (name) => interesting.has(name),
      // Cheap pre-check: most events are deltas without usage, and only those that mention it are parsed.
      onEvent: (_name, data) => {
        if (data.includes('"usage"')) reader.onEvent(data);
      },
    });
  }

  push(chunk: Uint8Array): void {
    this.#parser.push(chunk);
  }

  finish(): ObservedUsage | undefined {
    this.#parser.end();
    return this.#reader.result();
  }
}

class JsonUsageTracker implements UsageTracker {
  readonly #reader: OpenAIUsage | AnthropicUsage;
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  constructor(protocol: GatewayProtocol) {
    this.#reader = protocol === "openai-responses" ? new OpenAIUsage() : new AnthropicUsage();
  }

  push(chunk: Uint8Array): void {
    this.#bytes += chunk.byteLength;
    if (this.#bytes > MAX_JSON_BODY_BYTES) this.#chunks = [];
    else this.#chunks.push(chunk);
  }

  finish(): ObservedUsage | undefined {
    if (this.#bytes > MAX_JSON_BODY_BYTES || this.#chunks.length === 0) return undefined;
    this.#reader.onBody(parseJson(Buffer.concat(this.#chunks).toString("utf8")));
    this.#chunks = [];
    return this.#reader.result();
  }
}

const noUsage: UsageTracker = {
  push: () => {
    // Nothing to read in a body that is neither SSE nor JSON.
  },
  finish: () => undefined,
};

/** A tracker for a successful upstream answer of this content type (SSE or JSON; anything else is not metered). */
export function createUsageTracker(protocol: GatewayProtocol, contentType: string | null): UsageTracker {
  const type = (contentType ?? "").toLowerCase();
  if (type.includes("text/event-stream")) return new SseUsageTracker(protocol);
  if (type.includes("json")) return new JsonUsageTracker(protocol);
  return noUsage;
}
