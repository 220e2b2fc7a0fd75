import { type CredentialInput, type CredentialKind, credentialLabels } from "@/server/credentials/kinds";
import type { VendorEndpoints } from "@/server/credentials/platform-defaults";
import type { VerifyResult } from "@/server/credentials/verify-result";
import { type CredentialCheck, describeError, unreachable } from "./credential-check";
import { verifyVercelToken } from "./deployer/vercel-verify";
import { verifyGitHubToken } from "./git-host/github-verify";
import { verifyAnthropicKey } from "./models/anthropic-verify";
import { verifyOpenAICompatible } from "./models/openai-compatible-verify";
import { verifyOpenAIKey } from "./models/openai-verify";
import { verifyTiDBCloudKey } from "./tidbcloud/tidbcloud-verify";

/**
 * Checks a credential against its vendor before it is saved (the policy is on VerifyResult): each vendor's check
 * lives beside its adapter and uses the adapter's client; this picks one, bounds it in time, and scrubs every
 * secret of the input from whatever it says.
 */

export type VerifyOptions = { endpoints: VendorEndpoints; timeoutMs?: number; fetch?: typeof fetch };

const defaultTimeoutMs = 8000;

export async function verifyCredential(
  input: CredentialInput,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const secrets = secretsOf(input);
  const label = credentialLabels[input.kind];
  const endpoint = endpointFor(input, options.endpoints);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const check: CredentialCheck = {
    label,
    host: URL.canParse(endpoint) ? new URL(endpoint).host : endpoint,
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    fetch: options.fetch,
  };

  // Header values must be visible ASCII; anything else is a paste accident no vendor would accept, and fetch's
  // own error for it would quote the secret.
  if (secrets.some((value) => !/^[\x21-\x7e]+$/.test(value))) {
    return {
      status: "rejected",
      message: `The ${label} credential contains characters that no ${label} key has (spaces, line breaks or non-ASCII). Copy it again from ${label} and paste it.`,
    };
  }

  let result: VerifyResult;
  try {
    result = await checkByKind(input, endpoint, check);
  } catch (error) {
    // Anything not classified by the vendor checks (a library bug, an unexpected throw) still must not leak.
    result = unreachable(check, describeError(error, check));
  }
  return redact(result, secrets);
}

function checkByKind(
  input: CredentialInput,
  endpoint: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  switch (input.kind) {
    case "github":
      return verifyGitHubToken(input.token, endpoint, check);
    case "vercel":
      return verifyVercelToken(input, endpoint, check);
    case "tidbcloud":
      return verifyTiDBCloudKey(input, endpoint, check);
    case "openai":
      return verifyOpenAIKey(input, endpoint, check);
    case "anthropic":
      return verifyAnthropicKey(input, endpoint, check);
    case "openai-compatible":
      return verifyOpenAICompatible(input, endpoint, check);
  }
}

function endpointFor(input: CredentialInput, endpoints: VendorEndpoints): string {
  const byKind: Record<CredentialKind, string> = {
    github: endpoints.githubApiUrl,
    vercel: endpoints.vercelApiUrl,
    tidbcloud: endpoints.tidbCloudApiUrl,
    // An operator's own base URL (a proxy or compatible gateway) wins over the platform default.
    openai: (input.kind === "openai" && input.baseUrl) || endpoints.openaiBaseUrl,
    anthropic: (input.kind === "anthropic" && input.baseUrl) || endpoints.anthropicBaseUrl,
    "openai-compatible": input.kind === "openai-compatible" ? input.baseUrl : "",
  };
  return byKind[input.kind].replace(/\/+$/, "");
}

function secretsOf(input: CredentialInput): string[] {
  switch (input.kind) {
    case "github":
    case "vercel":
      return [input.token];
    case "tidbcloud":
      return [input.publicKey, input.privateKey];
    case "openai":
    case "anthropic":
      return [input.apiKey];
    case "openai-compatible":
      return input.apiKey ? [input.apiKey] : [];
  }
}

/** Vendor and library text may quote what it was sent: every secret of the input goes, whatever its length. */
function redact(result: VerifyResult, secrets: string[]): VerifyResult {
  const variants = [...new Set(secrets.flatMap((value) => [value, encodeURIComponent(value)]))]
    .filter((value) => value.length > 0)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => variants.reduce((out, value) => out.split(value).join("[redacted]"), text);
  return result.status === "verified"
    ? { status: "verified", detail: scrub(result.detail) }
    : { status: result.status, message: scrub(result.message) };
}
