import Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import { excerpt, type ModelAnswer } from "./model-answer";
import type { ProviderCallOptions } from "./openai-plan";
import { planAnswerJsonSchema } from "./plan-schema";
import { plannerInstructions, planToolName } from "./prompts";

/** One planning request to the Anthropic Messages API: the plan is the input of a single, forced tool call. */

export const defaultAnthropicBaseUrl = "https://api.anthropic.com";

const maxTokens = 4096;

export function createAnthropicPlannerClient(options: ProviderCallOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    // Only an invalid answer is worth a second request, and planApp makes it itself.
    maxRetries: 0,
    timeout: options.timeoutMs,
    webhookKey: null,
    logLevel: "off",
    openTelemetry: false,
    // This SDK version sends an API key as `Authorization: Bearer`; the documented header is `x-api-key`, which
    // every Anthropic-compatible gateway accepts. `apiKey` stays set so the SDK never falls back to env/profiles.
    defaultHeaders: { "x-api-key": options.apiKey, authorization: null },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

const messageSchema = z.object({
  stop_reason: z.string().nullish(),
  content: z.array(
    z.object({
      type: z.string(),
      name: z.string().optional(),
      input: z.unknown().optional(),
      text: z.string().optional(),
    }),
  ),
});

export async function askAnthropic(
  client: Anthropic,
  request: { model: string; text: string; signal: AbortSignal },
): Promise<ModelAnswer> {
  const message = await client.messages.create(
    {
      model: request.model,
      max_tokens: maxTokens,
      system: plannerInstructions,
      messages: [{ role: "user", content: request.text }],
      tools: [
        {
          name: planToolName,
          description: "Submit the plan for the app.",
          input_schema: planAnswerJsonSchema(),
        },
      ],
      tool_choice: { type: "tool", name: planToolName },
      stream: false,
    },
    { signal: request.signal },
  );
  return readMessage(message);
}

function readMessage(message: unknown): ModelAnswer {
  const parsed = messageSchema.safeParse(message);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: "invalid",
      problem: `the response had an unexpected shape at ${issue?.path.join(".") || "the top"}`,
    };
  }
  const { stop_reason: stopReason, content } = parsed.data;
  const said = excerpt(
    content
      .filter((block) => block.type === "text")
      .map((block) => block.text ?? "")
      .join(" "),
  );
  if (stopReason === "refusal") return { kind: "refused", reason: said || "no reason given" };
  const call = content.find((block) => block.type === "tool_use" && block.name === planToolName);
  if (call) {
    if (stopReason === "max_tokens")
      return { kind: "invalid", problem: "the answer was cut off (max_tokens)" };
    return { kind: "answer", value: call.input };
  }
  // The tool call is forced: a model that answers without it has declined.
  return { kind: "refused", reason: said || "it answered without a plan" };
}
