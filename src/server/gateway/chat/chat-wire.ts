import { z } from "zod";

/**
 * The OpenAI Chat Completions wire, as the servers self-hosters run speak it (vLLM, Ollama, LM Studio, llama.cpp,
 * LiteLLM, OpenRouter). Shapes are loose on purpose: each server leaves out different fields, and the gateway reads
 * only what it translates. Reasoning arrives as `reasoning_content` (vLLM, DeepSeek, llama.cpp) or `reasoning`
 * (Ollama, OpenRouter).
 */

export type ChatToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };
export type ChatContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } };
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ChatContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };
export type ChatTool = {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
};
export type ChatToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export type ChatRequest = {
  model: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  response_format?:
    | { type: "json_object" }
    | { type: "json_schema"; json_schema: { name: string; schema: unknown; strict?: boolean } };
  stream: boolean;
  stream_options?: { include_usage: boolean };
};

const count = z.number().int().nonnegative();

export const chatUsageSchema = z.object({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: z.object({ cached_tokens: count.nullish() }).nullish(),
});
export type ChatUsage = z.infer<typeof chatUsageSchema>;

const errorSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
});

const toolCallDeltaSchema = z.object({
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

const deltaSchema = z.object({
  content: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  refusal: z.string().nullish(),
  tool_calls: z.array(toolCallDeltaSchema).nullish(),
});

/** One `data:` line of a streamed answer. Usage comes in a last chunk with no choices (`include_usage`). */
export const chatChunkSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: deltaSchema.nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: chatUsageSchema.nullish().catch(undefined),
  error: errorSchema.nullish(),
});
export type ChatChunk = z.infer<typeof chatChunkSchema>;

/** A whole (non-streamed) answer. */
export const chatCompletionSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          reasoning_content: z.string().nullish(),
          reasoning: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z.array(toolCallDeltaSchema).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: chatUsageSchema.nullish().catch(undefined),
  error: errorSchema.nullish(),
});

/** The error body OpenAI-compatible servers send (`{error: {message, type, code}}`; some send `{detail}` or text). */
export const chatErrorBodySchema = z.union([
  z.object({ error: z.union([errorSchema, z.string()]) }),
  z.object({ detail: z.union([z.string(), z.array(z.unknown())]) }),
  z.object({ message: z.string() }),
]);
