import type { ModelProvider } from "@/agents/models";
import {
  type CredentialContext,
  isTrustedModelUrl,
  resolveCredential,
} from "@/server/credentials/credential-store";
import type { Executor } from "@/server/db/connection";
import { type ModelPrice, parseDefaultPrice } from "./prices";

/** Where and with which key the gateway calls a vendor for one operator. The key never leaves the platform. */
export type Upstream = {
  /** Empty for an OpenAI-compatible server that wants no key. */
  apiKey: string;
  baseUrl: string;
  /** An operator's own base URL: its host is checked before each request (it may resolve elsewhere by now). */
  checkHost?: boolean;
  /** "chat": an OpenAI-compatible server, reached over Chat Completions and translated; default: the vendor's own. */
  wire?: "native" | "chat";
  /** What the server's models cost, when its credential says (OpenAI-compatible servers). */
  price?: ModelPrice;
};
export type ResolveUpstream = (userId: string, provider: ModelProvider) => Promise<Upstream | undefined>;

/**
 * The operator's own credential, else the platform default; the base URL is the credential's own, else the
 * platform's (OPENAI_BASE_URL / ANTHROPIC_BASE_URL), else the vendor's — the same rule as credential checks.
 */
export function credentialUpstreamResolver(db: Executor, ctx: CredentialContext): ResolveUpstream {
  return async (userId, provider) => {
    if (provider === "openai-compatible") {
      const compatible = await resolveCredential(db, ctx, userId, "openai-compatible");
      if (!compatible) return undefined;
      return {
        apiKey: compatible.payload.apiKey ?? "",
        baseUrl: compatible.payload.baseUrl.replace(/\/+$/, ""),
        checkHost: !isTrustedModelUrl(ctx, compatible),
        wire: "chat",
        price: parseDefaultPrice(compatible.payload.price),
      };
    }
    const found = await resolveCredential(db, ctx, userId, provider);
    if (!found) return undefined;
    const fallback = provider === "openai" ? ctx.endpoints.openaiBaseUrl : ctx.endpoints.anthropicBaseUrl;
    return {
      apiKey: found.payload.apiKey,
      baseUrl: (found.payload.baseUrl ?? fallback).replace(/\/+$/, ""),
      checkHost: !isTrustedModelUrl(ctx, found),
    };
  };
}
