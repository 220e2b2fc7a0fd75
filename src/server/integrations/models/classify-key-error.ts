import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { z } from "zod";
import type { VerifyResult } from "@/server/credentials/verify-result";
import {
  type CredentialCheck,
  describeError,
  statusReason,
  unreachable,
  vendorNote,
} from "../credential-check";

/** OpenAI puts `{code, type}` on `error.error`; Anthropic puts the whole `{type, error: {type}}` body there. */
const sdkErrorBodySchema = z.object({
  code: z.string().nullish(),
  type: z.string().nullish(),
  error: z.object({ type: z.string() }).optional(),
});

function sdkErrorNote(body: unknown): string {
  const parsed = sdkErrorBodySchema.safeParse(body);
  if (!parsed.success) return "";
  return vendorNote(parsed.data.code ?? parsed.data.error?.type ?? parsed.data.type);
}

type Sdk = typeof OpenAI | typeof Anthropic;

/** What a model SDK threw while listing models with a key: a refusal of the key, or why the vendor was unreachable. */
export function classifyKeyError(
  error: unknown,
  check: CredentialCheck,
  sdk: Sdk,
  rejected: (status: 401 | 403, note: string) => string,
): VerifyResult {
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return unreachable(check, `no answer within ${check.timeoutMs} ms`);
  }
  if (error instanceof sdk.APIError && typeof error.status === "number") {
    if (error.status === 401 || error.status === 403) {
      return { status: "rejected", message: rejected(error.status, sdkErrorNote(error.error)) };
    }
    const hint = error.status === 404 ? ", check the base URL" : "";
    return unreachable(check, `${statusReason(error.status)}${hint}`);
  }
  return unreachable(check, describeError(error, check));
}
