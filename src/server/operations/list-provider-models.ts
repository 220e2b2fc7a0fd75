import "server-only";
import type { ModelProvider } from "@/agents/models";
import { isTrustedModelUrl, resolveCredential } from "@/server/credentials/credential-store";
import { checkModelBaseUrl } from "@/server/credentials/model-url-policy";
import { listCompatibleModels } from "@/server/integrations/models/openai-compatible-models";
import type { Platform } from "@/server/platform/platform";

export type ProviderModels = { models: string[]; listed: boolean };

const timeoutMs = 5000;

/**
 * The models an operator can pick for a provider: what their OpenAI-compatible server lists (`GET /models`),
 * else nothing listed (the picker takes free text). Vendors' own models are named by hand: their lists hold far
 * more than coding agents can use.
 */
export async function listProviderModels(
  platform: Platform,
  userId: string,
  provider: ModelProvider,
): Promise<ProviderModels> {
  if (provider !== "openai-compatible") return { models: [], listed: false };
  const credential = await resolveCredential(platform.db, platform.credentials, userId, "openai-compatible");
  if (!credential) return { models: [], listed: false };
  const baseUrl = credential.payload.baseUrl;
  if (!isTrustedModelUrl(platform.credentials, credential)) {
    // The same rule as the gateway's: an operator's host is checked before each connection.
    const check = await checkModelBaseUrl(baseUrl, { allowPrivate: false });
    if (!check.ok) return { models: [], listed: false };
  }
  try {
    const listed = await listCompatibleModels({
      baseUrl,
      apiKey: credential.payload.apiKey,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return listed.ok ? { models: listed.models, listed: true } : { models: [], listed: false };
  } catch (error) {
    // A server that is down or slow leaves the picker to free text; the run itself will say what is wrong.
    if (!(error instanceof Error)) throw error;
    return { models: [], listed: false };
  }
}
