/**
 * Redaction of event text before it is stored. Two layers: every known secret value (the operator's credentials,
 * the platform's secrets, this sandbox's webhook secret) wherever it appears, also URL-encoded or base64-encoded;
 * and the shapes of common tokens, which catch secrets Kiln was never told about (a key an agent printed from a
 * `.env`, say). Stored events are public to anyone holding a share link, so this errs on the side of redacting.
 */

export const REDACTED = "[redacted]";

export type Redactor = (text: string) => string;

/**
 * Below this a "secret" would shred ordinary text (and no real credential is this short: stored credentials are at
 * least 8 characters). Encoded forms need a longer value before they are distinctive.
 */
const MIN_SECRET_LENGTH = 4;
const MIN_ENCODED_LENGTH = 8;

/** Shapes whose whole match is a secret. */
const tokenShapes: RegExp[] = [
  // Anthropic ("sk-ant-…") and OpenAI ("sk-…", "sk-proj-…") keys.
  /\bsk-ant-[A-Za-z0-9_-]{16,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens; fine-grained PATs.
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  // Slack bot, user, app, refresh and legacy tokens.
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  // AWS access key ids (long-lived and temporary).
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // Kiln's own API tokens and run tokens.
  /\bkiln_[A-Za-z0-9_-]{32,}/g,
  /\bkrt_[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]+)?/g,
  // PEM private keys, including one cut off by truncated output.
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
];

/** Shapes where only the value after a label is secret: the label stays so the text still reads. */
const labelledShapes: RegExp[] = [
  // `Authorization: Bearer …`, also as JSON (`"authorization":"Bearer …"`) or `-H 'Authorization: Basic …'`.
  /(\bauthorization["']?\s*[:=]\s*["']?(?:bearer|basic|token)\s+)[^\s"'\\,;]+/gi,
  /(\bx-api-key["']?\s*[:=]\s*["']?)[^\s"'\\,;]+/gi,
  // The password of any `scheme://user:password@host` URL (mysql://, postgres://, https://, redis://…).
  /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)[^\s/@"']+(?=@)/gi,
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The substrings of base64 text that encode `secret` when it starts at byte offset 0, 1 or 2 of a 3-byte group:
 * a secret inside a larger encoded value (`Basic base64(user:secret)`) shows up as one of these three.
 * Characters that also carry bits of the neighbouring bytes are left out.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms: string[] = [];
  for (const offset of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString("base64");
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    const core = encoded.slice(first, last);
    if (core.length >= MIN_ENCODED_LENGTH) {
      forms.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return forms;
}

function secretForms(secret: string): string[] {
  if (secret.length < MIN_SECRET_LENGTH) return [];
  const forms = [secret];
  if (secret.length >= MIN_ENCODED_LENGTH) {
    forms.push(encodeURIComponent(secret), ...base64Forms(secret));
  }
  return forms;
}

/**
 * A redactor for the given known secrets plus the common token shapes. Build one per batch (it compiles one
 * regular expression of all known values, longest first so a secret containing another is removed whole).
 */
export function createRedactor(knownSecrets: readonly string[]): Redactor {
  const literals = [...new Set(knownSecrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  const known = literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join("|"), "g") : null;
  return (text) => {
    let out = known ? text.replace(known, REDACTED) : text;
    for (const shape of tokenShapes) out = out.replace(shape, REDACTED);
    for (const shape of labelledShapes) out = out.replace(shape, `$1${REDACTED}`);
    return out;
  };
}

/** Applies `redact` to every string inside a JSON value (object keys are schema-defined and left alone). */
export function redactJson<T>(value: T, redact: Redactor): T {
  return walk(value, redact) as T;
}

function walk(value: unknown, redact: Redactor): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, redact));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, redact);
    return out;
  }
  return value;
}
