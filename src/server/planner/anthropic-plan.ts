import type Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import { excerpt, type ModelAnswer } from "./model-answer";
import { planAnswerJsonSchema } from "./plan-schema";
import { type PlanCall, planToolName } from "./prompts";

/** One planning request to the Anthropic Messages API: the plan is the input of a single, forced tool call. */

const maxTokens = 4096;

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

const usageSchema = z.object({
  usage: z
    .object({
      input_tokens: z.number(),
      output_tokens: z.number(),
      cache_read_input_tokens: z.number().nullish(),
      cache_creation_input_tokens: z.number().nullish(),
    })
    .nullish(),
});

export async function askAnthropic(
  client: Anthropic,
  request: PlanCall,
  onUsage?: (usage: {
    inputTokens: number;
    outputTokens: number;
    cachedTokens: number;
    estimated: boolean;
  }) => void,
): Promise<ModelAnswer> {
  const message = await client.messages.create(
    {
      model: request.model,
      max_tokens: maxTokens,
      system: request.instructions,
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
  const usage = usageSchema.safeParse(message).data?.usage;
  if (usage) {
    const cached = usage.cache_read_input_tokens ?? 0;
    onUsage?.({
      // Anthropic counts cache reads and writes apart from input_tokens; Kiln's input includes them.
      inputTokens: usage.input_tokens + cached + (usage.cache_creation_input_tokens ?? 0),
      outputTokens: usage.output_tokens,
      cachedTokens: cached,
      estimated: false,
    });
  }
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
