import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret } from "@/server/crypto/encryption";

const key = randomBytes(32);
const context = "credential:usr_alice:github";
const secret = "ghp_SuperSecretToken0000000000000001";

/** Flips one bit of the decoded bytes of part `index` (1 = iv, 2 = tag, 3 = body) and re-encodes it. */
function tamper(stored: string, index: 1 | 2 | 3): string {
  const parts = stored.split(".");
  const bytes = Buffer.from(parts[index] ?? "", "base64url");
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("encryptSecret / decryptSecret", () => {
  it("round-trips text, including non-ASCII and empty strings", () => {
    for (const plaintext of [secret, '{"token":"ünïcødé ✓ 鍵"}', ""]) {
      expect(decryptSecret(key, encryptSecret(key, plaintext, context), context)).toBe(plaintext);
    }
  });

  it("never stores the plaintext in the output", () => {
    const stored = encryptSecret(key, secret, context);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(Buffer.from(secret).toString("base64url"));
    expect(stored.startsWith("v1.")).toBe(true);
  });

  it("uses a fresh IV: the same secret encrypts differently each time", () => {
    const first = encryptSecret(key, secret, context);
    const second = encryptSecret(key, secret, context);
    expect(first).not.toBe(second);
    expect(first.split(".")[1]).not.toBe(second.split(".")[1]);
    expect(decryptSecret(key, first, context)).toBe(secret);
    expect(decryptSecret(key, second, context)).toBe(secret);
  });

  it.each([
    [1, "iv"],
    [2, "tag"],
    [3, "ciphertext"],
  ] as const)("refuses a value whose part %s (%s) was altered", (index, _part) => {
    const stored = encryptSecret(key, secret, context);
    expect(() => decryptSecret(key, tamper(stored, index), context)).toThrow();
  });

  it("refuses to decrypt under another context (a ciphertext moved to another row)", () => {
    const stored = encryptSecret(key, secret, context);
    expect(() => decryptSecret(key, stored, "credential:usr_mallory:github")).toThrow();
    expect(() => decryptSecret(key, stored, "credential:usr_alice:vercel")).toThrow();
  });

  it("refuses to decrypt with another key", () => {
    const stored = encryptSecret(key, secret, context);
    expect(() => decryptSecret(randomBytes(32), stored, context)).toThrow();
  });

  it("refuses values in an unknown format", () => {
    const stored = encryptSecret(key, secret, context);
    expect(() => decryptSecret(key, stored.replace(/^v1\./, "v2."), context)).toThrow(/unknown format/);
    expect(() => decryptSecret(key, secret, context)).toThrow(/unknown format/);
    expect(() => decryptSecret(key, "v1..", context)).toThrow(/unknown format/);
  });
});
