import Anthropic from "@anthropic-ai/sdk";
import type { ModelClientOptions } from "./openai-client";

export const defaultAnthropicBaseUrl = "https://api.anthropic.com";

/** The Anthropic SDK as Kiln uses it: the key and base URL it is given, nothing from the environment, no retries. */
export function createAnthropicClient(options: ModelClientOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    // Callers decide what is worth a second request (the planner re-asks on an invalid answer; a check never).
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
