import {
  type CredentialContext,
  isTrustedModelUrl,
  resolveCredential,
} from "@/server/credentials/credential-store";
import type { Executor } from "@/server/db/connection";
import type { GatewayProvider } from "./protocols";

/** Where and with which key the gateway calls a vendor for one operator. The key never leaves the platform. */
export type Upstream = {
  apiKey: string;
  baseUrl: string;
  /** An operator's own base URL: its host is checked before each request (it may resolve elsewhere by now). */
  checkHost?: boolean;
};
export type ResolveUpstream = (userId: string, provider: GatewayProvider) => Promise<Upstream | undefined>;

/**
 * The operator's own credential, else the platform default; the base URL is the credential's own, else the
 * platform's (OPENAI_BASE_URL / ANTHROPIC_BASE_URL), else the vendor's — the same rule as credential checks.
 */
export function credentialUpstreamResolver(db: Executor, ctx: CredentialContext): ResolveUpstream {
  return async (userId, provider) => {
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
