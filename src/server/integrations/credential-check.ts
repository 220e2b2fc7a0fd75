import type { z } from "zod";
import type { VerifyResult } from "@/server/credentials/verify-result";
import { networkReason } from "./network-reason";
import { ProviderError } from "./provider-error";

// What every vendor's credential check shares (the checks sit beside their adapters; verify-credential.ts picks
// one): the deadline, the wording of "could not reach", and the reading of a vendor's answer.

export type CredentialCheck = {
  /** The vendor as operators know it: "GitHub", "TiDB Cloud". */
  label: string;
  /** Host named in messages, e.g. "api.github.com". */
  host: string;
  /** The whole check's deadline. */
  signal: AbortSignal;
  timeoutMs: number;
  fetch: typeof fetch | undefined;
};

export function unreachable(check: CredentialCheck, reason: string): VerifyResult {
  return {
    status: "unreachable",
    message: `Could not reach ${check.label} at ${check.host} (${reason}). Saved without verifying.`,
  };
}

/** The vendor's own words about a refusal, short, for the end of a message: " (bad_credentials: …)". */
export function vendorNote(...parts: Array<string | null | undefined>): string {
  const note = parts
    .filter((part): part is string => Boolean(part))
    .join(": ")
    .slice(0, 160);
  return note ? ` (${note})` : "";
}

/** The reason for a non-2xx answer that is not a refusal of the credential. */
export function statusReason(status: number): string {
  if (status === 429) return "rate limited, HTTP 429; try again in a minute";
  if (status >= 500) return `the server answered HTTP ${status}`;
  return `unexpected HTTP ${status}`;
}

export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  return `unexpected response${where}: ${issue?.message ?? "invalid shape"}`;
}

/** A short human reason for a thrown network or library error; the check's own deadline first. */
export function describeError(error: unknown, check: CredentialCheck): string {
  if (check.signal.aborted || (error instanceof Error && error.name === "TimeoutError")) {
    return `no answer within ${check.timeoutMs} ms`;
  }
  const known = networkReason(error);
  if (known) return known;
  let current: unknown = error;
  let fallback: string | undefined;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (!fallback && current.message && current.message !== "fetch failed") fallback = current.message;
    current = current.cause;
  }
  return fallback ?? (error instanceof Error ? error.message : "unknown error");
}

/**
 * "Unreachable" for a ProviderError an adapter's client threw without a verdict on the credential: its deadline,
 * an HTTP status, or the network failure underneath.
 */
export function unreachableFrom(error: unknown, check: CredentialCheck): VerifyResult {
  if (!(error instanceof ProviderError)) return unreachable(check, describeError(error, check));
  if (error.status !== undefined) return unreachable(check, statusReason(error.status));
  if (error.kind === "timeout") return unreachable(check, `no answer within ${check.timeoutMs} ms`);
  return unreachable(check, describeError(error.cause ?? error, check));
}

/** A vendor's answer body: JSON when it parses, else marked as not JSON. */
export type VendorAnswer = { status: number; body: unknown; bodyIsJson: boolean };

export function answerOf(status: number, text: string): VendorAnswer {
  try {
    return { status, body: JSON.parse(text), bodyIsJson: true };
  } catch (error) {
    if (error instanceof SyntaxError) return { status, body: undefined, bodyIsJson: false };
    throw error;
  }
}

export async function readAnswer(response: Response): Promise<VendorAnswer> {
  return answerOf(response.status, await response.text());
}

/** Validates a 2xx body; a non-JSON or wrongly shaped body is a reason for "unreachable". */
export function parseBody<T>(
  schema: z.ZodType<T>,
  answer: VendorAnswer,
): { ok: true; data: T } | { ok: false; reason: string } {
  if (!answer.bodyIsJson) return { ok: false, reason: "unexpected response: not JSON" };
  const parsed = schema.safeParse(answer.body);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, reason: describeZodError(parsed.error) };
}
