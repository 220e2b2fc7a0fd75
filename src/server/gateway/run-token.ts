import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/**
 * Run tokens: what a sandbox holds instead of a model key. Stateless and short-lived:
 * `krt_<base64url(JSON {r: revisionId, s: sandboxId, exp: epochMs})>.<base64url(HMAC-SHA256(payload part))>`,
 * keyed by HKDF-SHA256(platform secret key, info "kiln run token"), so rotating KILN_SECRET_KEY revokes them all and
 * a token can never be confused with a credential ciphertext (different key).
 */

const PREFIX = "krt_";
/** Far more than a real token (~120 chars); bounds the work done on garbage. */
const MAX_TOKEN_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export type RunTokenClaims = { revisionId: string; sandboxId: string };
export type RunTokenCheck =
  | { ok: true; claims: RunTokenClaims; expiresAt: number }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

const payloadSchema = z.object({
  r: z.string().min(1).max(100),
  s: z.string().min(1).max(100),
  exp: z.number().int().positive(),
});

/** The signing key, derived so the raw secret key is used for nothing but credential encryption. */
export function deriveRunTokenKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", secretKey, Buffer.alloc(0), "kiln run token", 32));
}

function sign(payloadPart: string, secretKey: Buffer): Buffer {
  return createHmac("sha256", deriveRunTokenKey(secretKey)).update(payloadPart, "ascii").digest();
}

export function issueRunToken(
  input: { revisionId: string; sandboxId: string; ttlMs: number },
  secretKey: Buffer,
  now = Date.now(),
): string {
  if (!Number.isFinite(input.ttlMs) || input.ttlMs <= 0) {
    throw new RangeError("issueRunToken: ttlMs must be a positive number of milliseconds");
  }
  const payload = payloadSchema.parse({
    r: input.revisionId,
    s: input.sandboxId,
    exp: Math.floor(now + input.ttlMs),
  });
  const payloadPart = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${PREFIX}${payloadPart}.${sign(payloadPart, secretKey).toString("base64url")}`;
}

/** Says why a token is refused, so the gateway's 401 can tell an expired run from a forged token. */
export function checkRunToken(token: string, secretKey: Buffer, now = Date.now()): RunTokenCheck {
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) return { ok: false, reason: "malformed" };
  const [payloadPart, signaturePart, extra] = token.slice(PREFIX.length).split(".");
  if (!payloadPart || !signaturePart || extra !== undefined) return { ok: false, reason: "malformed" };
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart))
    return { ok: false, reason: "malformed" };

  const expected = sign(payloadPart, secretKey);
  const given = Buffer.from(signaturePart, "base64url");
  // Only the canonical spelling: base64url's last character has unused bits, and a token must have one form.
  if (given.toString("base64url") !== signaturePart) return { ok: false, reason: "malformed" };
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "bad_signature" };
  }

  // Only a payload we signed ourselves gets parsed.
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, reason: "malformed" };
    throw error;
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) return { ok: false, reason: "malformed" };
  if (now >= payload.data.exp) return { ok: false, reason: "expired" };
  return {
    ok: true,
    claims: { revisionId: payload.data.r, sandboxId: payload.data.s },
    expiresAt: payload.data.exp,
  };
}

export function verifyRunToken(token: string, secretKey: Buffer, now = Date.now()): RunTokenClaims | null {
  const check = checkRunToken(token, secretKey, now);
  return check.ok ? check.claims : null;
}
