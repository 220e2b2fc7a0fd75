import type { Env } from "@/server/config/env-schema";
import { type CredentialKind, type CredentialPayload, credentialPayloadSchemas } from "./kinds";

/** Where each vendor's API is, for the checks a credential passes before it is saved. */
export type VendorEndpoints = {
  githubApiUrl: string;
  vercelApiUrl: string;
  tidbCloudApiUrl: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  /** OPENAI_COMPATIBLE_BASE_URL: the platform's OpenAI-compatible server, if any. */
  openaiCompatibleBaseUrl?: string;
  /** Operators' own model base URLs may name http:// and loopback/private hosts (KILN_ALLOW_PRIVATE_MODEL_URLS). */
  allowPrivateModelUrls: boolean;
};

export type PlatformDefaults = { [K in CredentialKind]?: CredentialPayload<K> };

/** Platform-wide credentials from the environment: they apply to operators who set none of their own. */
function parseDefault<K extends CredentialKind>(
  kind: K,
  raw: Record<string, string | undefined>,
): CredentialPayload<K> | undefined {
  const result = credentialPayloadSchemas[kind].safeParse(raw);
  // A kind whose required variables are missing simply has no platform default.
  return result.success ? (result.data as CredentialPayload<K>) : undefined;
}

/** Platform-wide credentials from the environment: they apply to operators who set none of their own. */
export function platformDefaultsFromEnv(env: Env): PlatformDefaults {
  return {
    github: parseDefault("github", { token: env.GITHUB_TOKEN }),
    vercel: parseDefault("vercel", {
      token: env.VERCEL_TOKEN,
      teamId: env.VERCEL_TEAM_ID,
      projectId: env.VERCEL_PROJECT_ID,
    }),
    tidbcloud: parseDefault("tidbcloud", {
      publicKey: env.TIDB_CLOUD_PUBLIC_KEY,
      privateKey: env.TIDB_CLOUD_PRIVATE_KEY,
      projectId: env.TIDB_CLOUD_PROJECT_ID,
      region: env.TIDB_CLOUD_REGION,
    }),
    openai: parseDefault("openai", { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL }),
    anthropic: parseDefault("anthropic", { apiKey: env.ANTHROPIC_API_KEY, baseUrl: env.ANTHROPIC_BASE_URL }),
    "openai-compatible": parseDefault("openai-compatible", {
      baseUrl: env.OPENAI_COMPATIBLE_BASE_URL,
      apiKey: env.OPENAI_COMPATIBLE_API_KEY,
      price: env.OPENAI_COMPATIBLE_PRICE,
    }),
  };
}

export function vendorEndpointsFromEnv(env: Env): VendorEndpoints {
  return {
    githubApiUrl: env.GITHUB_API_URL,
    vercelApiUrl: env.VERCEL_API_URL,
    tidbCloudApiUrl: env.TIDB_CLOUD_API_URL,
    openaiBaseUrl: env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com",
    openaiCompatibleBaseUrl: env.OPENAI_COMPATIBLE_BASE_URL,
    allowPrivateModelUrls: env.KILN_ALLOW_PRIVATE_MODEL_URLS,
  };
}
