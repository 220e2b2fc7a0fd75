import { z } from "zod";

/**
 * `GET {baseUrl}/models` of an OpenAI-compatible server (Ollama, vLLM, LM Studio, OpenRouter, LiteLLM): the
 * model ids it serves. Plain fetch, not the OpenAI SDK: the key is optional here (a local server may want none).
 */

const modelsSchema = z.object({ data: z.array(z.object({ id: z.string().min(1) })) });

export type CompatibleModels =
  | { ok: true; models: string[] }
  | { ok: false; status: number | undefined; reason: string };

export async function listCompatibleModels(input: {
  baseUrl: string;
  apiKey: string | undefined;
  signal: AbortSignal;
  fetch?: typeof fetch;
}): Promise<CompatibleModels> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (input.apiKey) headers.authorization = `Bearer ${input.apiKey}`;
  const response = await (input.fetch ?? fetch)(`${input.baseUrl.replace(/\/+$/, "")}/models`, {
    headers,
    signal: input.signal,
    // A redirect would carry the key to wherever it points.
    redirect: "manual",
    cache: "no-store",
  });
  const text = await response.text();
  if (!response.ok) return { ok: false, status: response.status, reason: `HTTP ${response.status}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { ok: false, status: response.status, reason: "the answer is not JSON" };
  }
  const parsed = modelsSchema.safeParse(json);
  if (!parsed.success)
    return { ok: false, status: response.status, reason: "the answer is not a model list" };
  return { ok: true, models: [...new Set(parsed.data.data.map((model) => model.id))].sort() };
}
