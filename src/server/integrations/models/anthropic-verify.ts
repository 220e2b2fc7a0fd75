import Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import type { CredentialInput } from "@/server/credentials/kinds";
import type { VerifyResult } from "@/server/credentials/verify-result";
import {
  type CredentialCheck,
  parseBody,
  readAnswer,
  unreachable,
  type VendorAnswer,
} from "../credential-check";
import { createAnthropicClient } from "./anthropic-client";
import { classifyKeyError } from "./classify-key-error";

const anthropicModelsSchema = z.object({
  data: z.array(z.object({ id: z.string() })),
  has_more: z.boolean(),
});

/** An Anthropic (or compatible) API key before it is saved: the models it may use, through the official SDK. */
export async function verifyAnthropicKey(
  input: Extract<CredentialInput, { kind: "anthropic" }>,
  baseUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  const client = createAnthropicClient({
    apiKey: input.apiKey,
    baseUrl,
    timeoutMs: check.timeoutMs,
    fetch: check.fetch,
  });
  const where = input.baseUrl ? ` at ${check.host}` : "";
  let answer: VendorAnswer;
  try {
    answer = await readAnswer(await client.models.list({}, { signal: check.signal }).asResponse());
  } catch (error) {
    return classifyKeyError(error, check, Anthropic, (status, note) =>
      status === 401
        ? `Anthropic${where} rejected the API key${note}. Check that it was copied in full, or create a new key at console.anthropic.com/settings/keys.`
        : `Anthropic${where} refused the API key${note}. Check the key's workspace permissions.`,
    );
  }
  const parsed = parseBody(anthropicModelsSchema, answer);
  if (!parsed.ok) return unreachable(check, parsed.reason);
  const count = parsed.data.data.length;
  const more = parsed.data.has_more ? "+" : "";
  return {
    status: "verified",
    detail: `Anthropic${where} accepted the API key (${count}${more} model${count === 1 && !more ? "" : "s"} available)`,
  };
}
