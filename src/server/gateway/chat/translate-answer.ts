import { SseParser } from "../sse-parser";
import type { ObservedUsage } from "../usage-tracker";
import { ChatAnswer } from "./chat-answer";
import { chatChunkSchema, chatCompletionSchema, chatErrorBodySchema } from "./chat-wire";
import { MessagesWriter } from "./messages-writer";
import { ResponsesWriter } from "./responses-writer";

/**
 * Turns a Chat Completions answer, as its bytes arrive, into the client's protocol (OpenAI Responses for Codex,
 * Anthropic Messages for Claude Code), and reads its usage on the way. Pure: bytes in, text out; the gateway
 * (proxy.ts) does the I/O.
 */

export type ClientProtocol = "openai-responses" | "anthropic-messages";

export type AnswerTranslation = {
  /** The client's content type: SSE for a streamed answer, JSON otherwise. */
  contentType: string;
  push(chunk: Uint8Array): string;
  /** The upstream's body ended (or was cut): the rest of the client's answer. */
  end(): string;
  /**
   * What was used: the upstream's figures, else an estimate (marked). Always some: the upstream accepted the
   * request, so it read the prompt, even if the answer was cut short.
   */
  usage(): ObservedUsage;
};

export type TranslationOptions = {
  client: ClientProtocol;
  /** The model the client asked for (named in the answer when the upstream names none). */
  model: string;
  /** Whether the upstream answers with SSE (its content type). */
  streamed: boolean;
  customTools: ReadonlySet<string>;
  estimatedInputTokens: number;
  /** Unique per call, for the ids of the items and messages the answer creates. */
  callId: string;
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export function translateAnswer(options: TranslationOptions): AnswerTranslation {
  const answer = new ChatAnswer(options.callId);
  const writer =
    options.client === "openai-responses"
      ? new ResponsesWriter(answer, options.model, options.customTools)
      : new MessagesWriter(answer, options.model);
  let ended = false;

  const usage = (): ObservedUsage => {
    const counted = answer.usage(options.estimatedInputTokens);
    return { model: answer.model ?? undefined, usage: counted.usage, estimated: counted.estimated };
  };

  if (options.streamed) {
    let out = "";
    const parser = new SseParser({
      onEvent: (_event, data) => {
        if (data.trim() === "[DONE]") return;
        const chunk = chatChunkSchema.safeParse(parseJson(data));
        if (!chunk.success) return;
        out += writer.write(answer.push(chunk.data));
      },
    });
    const drain = (): string => {
      const text = out;
      out = "";
      return text;
    };
    return {
      contentType: "text/event-stream; charset=utf-8",
      push(chunk) {
        parser.push(chunk);
        return drain();
      },
      end() {
        if (ended) return "";
        ended = true;
        parser.end();
        return drain() + writer.end(answer.usage(options.estimatedInputTokens));
      },
      usage,
    };
  }

  const chunks: Uint8Array[] = [];
  return {
    contentType: "application/json",
    push(chunk) {
      chunks.push(chunk);
      return "";
    },
    end() {
      if (ended) return "";
      ended = true;
      const body = parseJson(Buffer.concat(chunks).toString("utf8"));
      const completion = chatCompletionSchema.safeParse(body);
      if (!completion.success) {
        answer.error = {
          message: "The model server's answer is not a Chat Completions response.",
          code: undefined,
        };
        return JSON.stringify(errorBody(options.client, 502, answer.error.message));
      }
      const deltas = answer.take(completion.data);
      if (answer.error) return JSON.stringify(errorBody(options.client, 502, answer.error.message));
      return JSON.stringify(writer.collect(deltas, answer.usage(options.estimatedInputTokens)));
    },
    usage,
  };
}

const anthropicTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** An error body in the client's protocol's shape (each CLI only shows errors in its own vendor's shape). */
export function errorBody(client: ClientProtocol, status: number, message: string, code?: string): unknown {
  if (client === "openai-responses") {
    return {
      error: {
        message,
        type: status >= 500 ? "server_error" : "invalid_request_error",
        param: null,
        code: code ?? null,
      },
    };
  }
  const type = anthropicTypes[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return { type: "error", error: { type, message } };
}

/** The message of an upstream error body, whatever shape the server chose; the raw text (bounded) otherwise. */
export function upstreamErrorMessage(text: string): { message: string; code: string | undefined } {
  const parsed = chatErrorBodySchema.safeParse(parseJson(text));
  if (parsed.success) {
    const body = parsed.data;
    if ("error" in body) {
      if (typeof body.error === "string") return { message: body.error, code: undefined };
      const code = body.error.code;
      return {
        message: body.error.message ?? "error",
        code: code === null || code === undefined ? undefined : String(code),
      };
    }
    if ("detail" in body) {
      return {
        message: typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail),
        code: undefined,
      };
    }
    return { message: body.message, code: undefined };
  }
  const trimmed = text.trim().slice(0, 500);
  return { message: trimmed || "no error message", code: undefined };
}

/** An upstream's error answer, re-shaped for the client; the status is kept. */
export function translateError(client: ClientProtocol, status: number, text: string, label: string): string {
  const { message, code } = upstreamErrorMessage(text);
  return JSON.stringify(errorBody(client, status, `${label}: ${message}`, code));
}
