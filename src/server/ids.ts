import { randomBytes } from "node:crypto";

// Crockford base32: no ambiguous characters, URL and filename safe, sorts as text.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function randomBase32(bytes: number): string {
  const buffer = randomBytes(bytes);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buffer) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

const prefixes = {
  user: "usr",
  project: "prj",
  task: "tsk",
  revision: "rev",
  credential: "crd",
  apiToken: "tok",
  session: "ses",
  dbBranch: "dbb",
  sandbox: "sbx",
  usage: "use",
  operatorInvite: "inv",
} as const;

/** A new primary key: a readable prefix and 80 random bits ("prj_5k3x…"). */
export function newId(kind: keyof typeof prefixes): string {
  return `${prefixes[kind]}_${randomBase32(10)}`;
}

/** Public share slugs carry 160 bits of randomness (the replay issue asks for at least 128). */
export function newShareSlug(): string {
  return randomBase32(20);
}
