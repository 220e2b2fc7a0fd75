/**
 * The one error every adapter throws for an outside service's failure. `kind` says what an operator can do about
 * it; `retryable` is true only where repeating the same call is safe and may succeed (rate limits, outages,
 * timeouts). Messages are written for operators and never contain secrets: adapters pass every message through
 * `scrub` with the secrets they hold.
 */
export type ProviderErrorKind =
  | "auth" // the credential is wrong or expired
  | "forbidden" // the credential lacks a permission
  | "not_found"
  | "conflict" // already exists / state does not allow it
  | "invalid" // the request was refused as malformed
  | "rate_limited"
  | "unavailable" // 5xx, connection refused, DNS
  | "timeout"
  | "unsupported" // this adapter cannot do that (e.g. point-in-time on libSQL)
  | "internal"; // a bug or an answer of an unexpected shape

export type Vendor =
  | "github"
  | "local-git"
  | "tidbcloud"
  | "mysql"
  | "libsql"
  | "vercel"
  | "local-sandbox"
  | "local-blob"
  | "local-deploy"
  | "chromium"; // the headless browser that takes preview screenshots

const retryableKinds = new Set<ProviderErrorKind>(["rate_limited", "unavailable", "timeout"]);

export class ProviderError extends Error {
  readonly vendor: Vendor;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    vendor: Vendor,
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProviderError";
    this.vendor = vendor;
    this.kind = kind;
    this.status = options.status;
    this.retryable = retryableKinds.has(kind);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** HTTP status → kind, for adapters of REST APIs. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 401) return "auth";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 400 || status === 422) return "invalid";
  if (status === 429) return "rate_limited";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "unavailable";
  return "internal";
}

/** Replaces every occurrence of each secret (and of its URL-encoded form) with "[redacted]". */
export function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)]))
      out = out.split(form).join("[redacted]");
  }
  return out;
}
