import OpenAI from "openai";
import { z } from "zod";
import { excerpt, type ModelAnswer } from "./model-answer";
import { planAnswerJsonSchema } from "./plan-schema";
import { type PlanCall, planFormatName, planToolName } from "./prompts";

/**
 * Planning on an OpenAI-compatible server (Chat Completions), which may not support what the vendors do. The
 * ways to get a plan, best first: a json_schema response format (vLLM with guided decoding, recent Ollama,
 * OpenRouter), a forced tool call (most servers with tool support), JSON mode (`json_object`), then plain text
 * told to be JSON. A server that refuses one (HTTP 400 or 422) is asked the next way; the way that worked is kept
 * for the repair attempt. Whatever comes back is checked by the caller with zod.
 */

export type ChatPlanMode = "json_schema" | "tool" | "json_object" | "text";
const modes: readonly ChatPlanMode[] = ["json_schema", "tool", "json_object", "text"];

export type ChatPlanUsage = {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  estimated: boolean;
};

const completionSchema = z.object({
  choices: z.array(
    z.object({
      finish_reason: z.string().nullish(),
      message: z.object({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z
          .array(z.object({ function: z.object({ name: z.string(), arguments: z.string() }) }))
          .nullish(),
      }),
    }),
  ),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().nullish() }).nullish(),
    })
    .nullish(),
});

const jsonInstruction =
  "\n\nAnswer with one JSON object only, no prose and no code fences, with exactly these fields: title, slug, steps (array of strings), agentPrompt.";

function requestFor(mode: ChatPlanMode, request: PlanCall): OpenAI.ChatCompletionCreateParamsNonStreaming {
  const { model, text, instructions } = request;
  const system = mode === "json_schema" || mode === "tool" ? instructions : instructions + jsonInstruction;
  const base = {
    model,
    stream: false as const,
    messages: [
      { role: "system" as const, content: system },
      { role: "user" as const, content: text },
    ],
  };
  switch (mode) {
    case "json_schema":
      return {
        ...base,
        response_format: {
          type: "json_schema",
          json_schema: { name: planFormatName, schema: planAnswerJsonSchema(), strict: true },
        },
      };
    case "tool":
      return {
        ...base,
        tools: [
          {
            type: "function",
            function: {
              name: planToolName,
              description: "Submit the plan for the app.",
              parameters: planAnswerJsonSchema(),
            },
          },
        ],
        tool_choice: { type: "function", function: { name: planToolName } },
      };
    case "json_object":
      return { ...base, response_format: { type: "json_object" } };
    case "text":
      return base;
  }
}

/** Models often wrap JSON in a code fence or a sentence: the outermost object is what counts. */
function jsonIn(text: string): unknown {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) throw new SyntaxError("no JSON object");
  return JSON.parse(text.slice(start, end + 1));
}

function readCompletion(completion: unknown): ModelAnswer {
  const parsed = completionSchema.safeParse(completion);
  const choice = parsed.success ? parsed.data.choices[0] : undefined;
  if (!choice) return { kind: "invalid", problem: "the response had an unexpected shape" };
  const { message } = choice;
  if (message.refusal) return { kind: "refused", reason: excerpt(message.refusal) };
  if (choice.finish_reason === "length")
    return { kind: "invalid", problem: "the answer was cut off (length)" };
  const call = message.tool_calls?.find((c) => c.function.name === planToolName) ?? message.tool_calls?.[0];
  const text = call ? call.function.arguments : (message.content ?? "");
  if (!text.trim()) return { kind: "invalid", problem: "the answer was empty" };
  try {
    return { kind: "answer", value: call ? JSON.parse(text) : jsonIn(text) };
  } catch (error) {
    if (error instanceof SyntaxError) return { kind: "invalid", problem: "the answer is not valid JSON" };
    throw error;
  }
}

function usageOf(completion: unknown, request: OpenAI.ChatCompletionCreateParamsNonStreaming): ChatPlanUsage {
  const parsed = completionSchema.safeParse(completion);
  const usage = parsed.success ? parsed.data.usage : undefined;
  if (usage) {
    return {
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      estimated: false,
    };
  }
  // No usage reported: the same rule of thumb as the gateway's (four characters a token), marked.
  const sent = request.messages.reduce(
    (sum, m) => sum + (typeof m.content === "string" ? m.content.length : 0),
    0,
  );
  return {
    inputTokens: Math.ceil(sent / 4),
    outputTokens: Math.ceil(JSON.stringify(completion ?? "").length / 4),
    cachedTokens: 0,
    estimated: true,
  };
}

/** Asks in the best way the server takes, starting at `state.mode`; leaves there the way that worked. */
export async function askChat(
  client: OpenAI,
  request: PlanCall,
  state: { mode: ChatPlanMode },
  onUsage: (usage: ChatPlanUsage) => void,
): Promise<ModelAnswer> {
  for (let at = modes.indexOf(state.mode); ; at++) {
    const mode = modes[at] ?? "text";
    const body = requestFor(mode, request);
    try {
      const completion: unknown = await client.chat.completions.create(body, { signal: request.signal });
      state.mode = mode;
      onUsage(usageOf(completion, body));
      return readCompletion(completion);
    } catch (error) {
      const unsupported =
        error instanceof OpenAI.APIError && (error.status === 400 || error.status === 422) && mode !== "text";
      if (!unsupported) throw error;
    }
  }
}
