import type OpenAI from "openai";
import { z } from "zod";
import { excerpt, type ModelAnswer } from "./model-answer";
import { planAnswerJsonSchema } from "./plan-schema";
import { type PlanCall, planFormatName } from "./prompts";

/** One structured planning request to the OpenAI Responses API (or a compatible base URL). */

const contentSchema = z.object({
  type: z.string(),
  text: z.string().optional(),
  refusal: z.string().optional(),
});
const responseSchema = z.object({
  status: z.string().nullish(),
  incomplete_details: z.object({ reason: z.string().nullish() }).nullish(),
  output: z.array(z.object({ type: z.string(), content: z.array(contentSchema).nullish() })),
});

const usageSchema = z.object({
  usage: z
    .object({
      input_tokens: z.number(),
      output_tokens: z.number(),
      input_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
    })
    .nullish(),
});

export async function askOpenAI(
  client: OpenAI,
  request: PlanCall,
  onUsage?: (usage: {
    inputTokens: number;
    outputTokens: number;
    cachedTokens: number;
    estimated: boolean;
  }) => void,
): Promise<ModelAnswer> {
  const response = await client.responses.create(
    {
      model: request.model,
      instructions: request.instructions,
      input: [{ role: "user", content: request.text }],
      text: {
        format: { type: "json_schema", name: planFormatName, schema: planAnswerJsonSchema(), strict: true },
      },
      // The prompt is the operator's; it has no reason to be kept upstream.
      store: false,
      stream: false,
    },
    { signal: request.signal },
  );
  const usage = usageSchema.safeParse(response).data?.usage;
  if (usage) {
    onUsage?.({
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cachedTokens: usage.input_tokens_details?.cached_tokens ?? 0,
      estimated: false,
    });
  }
  return readResponse(response);
}

function readResponse(response: unknown): ModelAnswer {
  const parsed = responseSchema.safeParse(response);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: "invalid",
      problem: `the response had an unexpected shape at ${issue?.path.join(".") || "the top"}`,
    };
  }
  const parts = parsed.data.output
    .filter((item) => item.type === "message")
    .flatMap((item) => item.content ?? []);
  const refusal = parts.find((part) => part.type === "refusal");
  if (refusal) return { kind: "refused", reason: excerpt(refusal.refusal ?? "") || "no reason given" };
  if (parsed.data.status === "incomplete") {
    const reason = parsed.data.incomplete_details?.reason;
    return { kind: "invalid", problem: `the answer was cut off${reason ? ` (${reason})` : ""}` };
  }
  const text = parts
    .filter((part) => part.type === "output_text")
    .map((part) => part.text ?? "")
    .join("");
  if (!text.trim()) return { kind: "invalid", problem: "the answer was empty" };
  try {
    return { kind: "answer", value: JSON.parse(text) };
  } catch (error) {
    if (error instanceof SyntaxError) return { kind: "invalid", problem: "the answer is not valid JSON" };
    throw error;
  }
}
