import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** An opaque bearer secret: 256 random bits, base64url. Only its SHA-256 is stored. */
export function newOpaqueToken(prefix = ""): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
