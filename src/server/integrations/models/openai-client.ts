import OpenAI from "openai";

export const defaultOpenAIBaseUrl = "https://api.openai.com/v1";

export type ModelClientOptions = {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  fetch: typeof fetch | undefined;
};

/** The OpenAI SDK as Kiln uses it: the key and base URL it is given, nothing from the environment, no retries. */
export function createOpenAIClient(options: ModelClientOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    // Callers decide what is worth a second request (the planner re-asks on an invalid answer; a check never).
    maxRetries: 0,
    timeout: options.timeoutMs,
    // Explicit nulls keep the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY.
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    logLevel: "off",
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
