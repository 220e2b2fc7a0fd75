import { z } from "zod";
import { kindForStatus, ProviderError, type ProviderErrorKind, scrub } from "../provider-error";

/**
 * A small client for the Vercel REST API: Bearer token, `?teamId=` on every call, a timeout on every request,
 * bounded retries only for idempotent calls, and every failure turned into a ProviderError whose message says what
 * to do and carries no secret. Errors are `{error: {code, message}}`; a bad or missing token is a 403 flagged
 * `invalidToken` / `missingToken` (Vercel rarely answers 401).
 */

export type VercelApiOptions = {
  token: string;
  teamId: string | undefined;
  apiUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Values besides the token that must never appear in a message (e.g. a deployment's env values). */
  secrets?: string[];
};

export type VercelRequest<T> = {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** What Kiln was doing, for messages: "creating a deployment". */
  action: string;
  parse: (text: string) => T;
  /** Safe to repeat: only these are retried. */
  idempotent: boolean;
  /** Resolve null on 404 instead of throwing. */
  nullOn404?: boolean;
  /** Extra advice for a 404. */
  notFoundHint?: string;
  /** Secrets this call carries besides the token. */
  secrets?: string[];
};

export type VercelAnswer = { status: number; headers: Headers; text: string };

const maxAttempts = 3;
const baseBackoffMs = 250;
// Waiting longer inside one call would hold a pipeline step hostage; the caller gets retryAfterMs instead.
const maxRetryWaitMs = 5_000;

const vendorErrorSchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    invalidToken: z.boolean().optional(),
    missingToken: z.boolean().optional(),
  }),
});

type VendorError = { code: string | undefined; message: string | undefined; badToken: boolean };

function vendorErrorOf(text: string): VendorError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  const result = vendorErrorSchema.safeParse(parsed);
  if (!result.success) return { code: undefined, message: undefined, badToken: false };
  const { code, message, invalidToken, missingToken } = result.data.error;
  return { code, message, badToken: invalidToken === true || missingToken === true };
}

/** Retry-After (seconds or an HTTP date), else Vercel's X-RateLimit-Reset (epoch seconds). */
export function retryAfterMsOf(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get("retry-after");
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  return undefined;
}

export class VercelApi {
  constructor(private readonly options: VercelApiOptions) {}

  private fail(
    kind: ProviderErrorKind,
    message: string,
    request: Pick<VercelRequest<unknown>, "secrets">,
    extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ): ProviderError {
    const secrets = [this.options.token, ...(this.options.secrets ?? []), ...(request.secrets ?? [])];
    return new ProviderError("vercel", kind, scrub(message, secrets), extra);
  }

  private scope(): string {
    return this.options.teamId ? `team ${this.options.teamId}` : "the token's personal account";
  }

  private statusError(status: number, headers: Headers, text: string, request: VercelRequest<unknown>) {
    const vendor = vendorErrorOf(text);
    const said = vendor.message ? `: ${vendor.message}${vendor.code ? ` (${vendor.code})` : ""}` : "";
    const { action } = request;
    const kind: ProviderErrorKind = status === 403 && vendor.badToken ? "auth" : kindForStatus(status);
    const retryAfterMs = kind === "rate_limited" || status === 503 ? retryAfterMsOf(headers) : undefined;
    const extra = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    switch (kind) {
      case "auth":
        return this.fail(
          kind,
          `Vercel refused the token while ${action} (invalid, expired or revoked): create a token at ` +
            "https://vercel.com/account/tokens and update the Vercel credential.",
          request,
          extra,
        );
      case "forbidden":
        return this.fail(
          kind,
          `Vercel refused ${action} in ${this.scope()}${said}. Check the team id and that the token's scope ` +
            "includes that team and project.",
          request,
          extra,
        );
      case "not_found":
        return this.fail(
          kind,
          `Vercel found nothing while ${action} in ${this.scope()}${said}.${request.notFoundHint ? ` ${request.notFoundHint}` : ""}`,
          request,
          extra,
        );
      case "rate_limited": {
        const when = retryAfterMs === undefined ? "in a minute" : `in ${Math.ceil(retryAfterMs / 1000)} s`;
        return this.fail(kind, `Vercel rate-limited ${action}: retry ${when}.`, request, extra);
      }
      case "unavailable":
      case "timeout":
        return this.fail(
          kind,
          `Vercel failed while ${action} (HTTP ${status})${said}: retry later; check https://www.vercel-status.com if it persists.`,
          request,
          extra,
        );
      default:
        return this.fail(kind, `Vercel refused ${action} (HTTP ${status})${said}.`, request, extra);
    }
  }

  /**
   * One request, its answer whatever the status: Kiln's credential check reads refusals itself. Only a request
   * that got no answer (network, timeout) throws.
   */
  async send(request: Omit<VercelRequest<unknown>, "parse" | "idempotent">): Promise<VercelAnswer> {
    const { apiUrl, token, teamId, timeoutMs } = this.options;
    const url = new URL(`${apiUrl.replace(/\/+$/, "")}${request.path}`);
    if (teamId) url.searchParams.set("teamId", teamId);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    try {
      const response = await this.options.fetch(url, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(request.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        // Covers the body read too.
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw this.fail(
          "timeout",
          `Vercel did not answer ${request.action} within ${timeoutMs / 1000} s: retry later.`,
          request,
          {
            cause: error,
          },
        );
      }
      const detail = error instanceof Error ? error.message : String(error);
      throw this.fail(
        "unavailable",
        `Could not reach the Vercel API at ${url.origin} while ${request.action} (${detail}): check the network and the API URL.`,
        request,
        { cause: error },
      );
    }
  }

  private async once<T>(request: VercelRequest<T>): Promise<T | null> {
    const { status, headers, text } = await this.send(request);
    if (status === 404 && request.nullOn404) return null;
    if (status < 200 || status >= 300) throw this.statusError(status, headers, text, request);
    try {
      return request.parse(text);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw this.fail(
        "internal",
        `Vercel answered ${request.action} with something unreadable: ${detail}`,
        request,
        {
          status,
          cause: error,
        },
      );
    }
  }

  async call<T>(request: VercelRequest<T>): Promise<T | null> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return await this.once(request);
      } catch (error) {
        const retry = error instanceof ProviderError && error.retryable && request.idempotent;
        const waitMs = retry ? (error.retryAfterMs ?? baseBackoffMs * 2 ** (attempt - 1)) : 0;
        if (!retry || attempt === maxAttempts || waitMs > maxRetryWaitMs) throw error;
        lastError = error;
        await this.options.sleep(waitMs);
      }
    }
    throw lastError;
  }
}

/** A `parse` for JSON bodies checked against a schema; a mismatch names the fields, never the values. */
export function jsonOf<T>(schema: z.ZodType<T>, what: string): (text: string) => T {
  return (text) => {
    const result = schema.safeParse(JSON.parse(text));
    if (result.success) return result.data;
    const fields = result.error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
    throw new ProviderError(
      "vercel",
      "internal",
      `Vercel answered with ${what} of an unexpected shape (fields: ${fields}); the API may have changed.`,
      { cause: result.error },
    );
  };
}
