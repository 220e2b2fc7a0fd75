import OpenAI from "openai";
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
import { classifyKeyError } from "./classify-key-error";
import { createOpenAIClient } from "./openai-client";

const openaiModelsSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

/** An OpenAI (or compatible) API key before it is saved: the models it may use, through the official SDK. */
export async function verifyOpenAIKey(
  input: Extract<CredentialInput, { kind: "openai" }>,
  baseUrl: string,
  check: CredentialCheck,
): Promise<VerifyResult> {
  const client = createOpenAIClient({
    apiKey: input.apiKey,
    baseUrl,
    timeoutMs: check.timeoutMs,
    fetch: check.fetch,
  });
  const where = input.baseUrl ? ` at ${check.host}` : "";
  let answer: VendorAnswer;
  try {
    answer = await readAnswer(await client.models.list({ signal: check.signal }).asResponse());
  } catch (error) {
    return classifyKeyError(error, check, OpenAI, (status, note) =>
      status === 401
        ? `OpenAI${where} rejected the API key${note}. Check that it was copied in full, or create a new key at platform.openai.com/api-keys.`
        : `OpenAI${where} refused the API key${note}. Check the key's project permissions and that your organization can use the API.`,
    );
  }
  const parsed = parseBody(openaiModelsSchema, answer);
  if (!parsed.ok) return unreachable(check, parsed.reason);
  const count = parsed.data.data.length;
  return {
    status: "verified",
    detail: `OpenAI${where} accepted the API key (${count} model${count === 1 ? "" : "s"} available)`,
  };
}
