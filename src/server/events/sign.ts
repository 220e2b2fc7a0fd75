import { createHmac, timingSafeEqual } from "node:crypto";

// The webhook's signature scheme, shared by the runner (which signs) and the platform (which verifies). Pure and
// dependency-free on purpose: the runner bundle imports this file, so it must not pull in server-only modules.
// See docs/pipeline.md "Webhook".

export const SIGNATURE_HEADER = "x-kiln-signature";
export const TIMESTAMP_HEADER = "x-kiln-timestamp";
/** A signed request is accepted this long either side of the platform's clock; older ones are refused as replays. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

const VERSION = "v1";

function hmacHex(secret: string, timestampMs: number, rawBody: string): string {
  return createHmac("sha256", secret).update(`${timestampMs}.${rawBody}`, "utf8").digest("hex");
}

/** The headers a runner sends with `rawBody` (which must be sent byte for byte as signed). */
export function signWebhookBody(
  secret: string,
  timestampMs: number,
  rawBody: string,
): { "x-kiln-timestamp": string; "x-kiln-signature": string } {
  return {
    [TIMESTAMP_HEADER]: String(timestampMs),
    [SIGNATURE_HEADER]: `${VERSION}=${hmacHex(secret, timestampMs, rawBody)}`,
  };
}

/** The timestamp header as epoch ms, or null when missing or not a plain positive integer. */
export function parseTimestampHeader(value: string | null): number | null {
  if (value === null || !/^\d{1,16}$/.test(value)) return null;
  const timestamp = Number(value);
  return timestamp > 0 ? timestamp : null;
}

/** The `v1=` signatures of a header (several may be sent while a secret rotates), or null when there is none. */
export function parseSignatureHeader(value: string | null): string[] | null {
  if (value === null) return null;
  const signatures = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${VERSION}=`))
    .map((part) => part.slice(VERSION.length + 1))
    .filter((hex) => /^[0-9a-f]{64}$/i.test(hex));
  return signatures.length > 0 ? signatures : null;
}

/** Constant-time check of a request's signatures against the expected HMAC. */
export function isValidSignature(
  secret: string,
  timestampMs: number,
  rawBody: string,
  signatures: readonly string[],
): boolean {
  const expected = Buffer.from(hmacHex(secret, timestampMs, rawBody), "hex");
  let valid = false;
  // Every candidate is compared (no early exit), so timing does not reveal which one matched.
  for (const signature of signatures) {
    const candidate = Buffer.from(signature, "hex");
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) valid = true;
  }
  return valid;
}

export function isWithinTolerance(timestampMs: number, nowMs: number): boolean {
  return Math.abs(nowMs - timestampMs) <= SIGNATURE_TOLERANCE_MS;
}
