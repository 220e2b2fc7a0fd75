import type { CredentialInput } from "@/server/credentials/kinds";
import type { VerifyResult } from "@/server/credentials/verify-result";
import { type CredentialCheck, describeError, unreachable } from "../credential-check";
import { listCompatibleModels } from "./openai-compatible-models";

/**
 * An OpenAI-compatible server before it is saved: it must list its models (`GET /models`) with the key given. A
 * 401/403 is a refusal; a server that does not have the endpoint (404) is let through unverified, since the model
 * is then named by hand.
 */
export async function verifyOpenAICompatible(
  input: Extract<CredentialInput, { kind: "openai-compatible" }>,
  baseUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  let listed: Awaited<ReturnType<typeof listCompatibleModels>>;
  try {
    listed = await listCompatibleModels({
      baseUrl,
      apiKey: input.apiKey,
      signal: check.signal,
      fetch: check.fetch,
    });
  } catch (error) {
    return unreachable(check, describeError(error, check));
  }
  if (listed.ok) {
    const count = listed.models.length;
    const some = listed.models.slice(0, 3).join(", ");
    return {
      status: "verified",
      detail: `The server at ${check.host} lists ${count} model${count === 1 ? "" : "s"}${some ? ` (${some}${count > 3 ? ", …" : ""})` : ""}`,
    };
  }
  if (listed.status === 401 || listed.status === 403) {
    return {
      status: "rejected",
      message: `The server at ${check.host} refused ${input.apiKey ? "the API key" : "a request without an API key"} (HTTP ${listed.status}). Check the key, or add one.`,
    };
  }
  return unreachable(check, `GET /models: ${listed.reason}`);
}
