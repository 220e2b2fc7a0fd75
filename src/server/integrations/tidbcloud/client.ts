import { z } from "zod";
import { kindForStatus, ProviderError, type ProviderErrorKind, scrub } from "../provider-error";
import { createDigestFetch, type DigestFetch } from "./digest-auth";

/**
 * A small client for the TiDB Cloud Serverless API (v1beta1): HTTP Digest auth, a timeout on every request,
 * zod-checked answers, and the API's limits honoured.
 *
 * Policy:
 * - 429: the key is over 100 requests/min. Wait as long as `X-Ratelimit-Reset` says (seconds), at most
 *   `maxRateLimitWaitMs`, and at most twice per call; beyond that, fail as rate_limited with retryAfterMs. A 429
 *   means the request was not processed, so this holds for every method.
 * - 5xx, network errors and timeouts are retried (twice, with backoff) only for idempotent requests; a POST that
 *   failed that way may have happened, so it is left to the caller (whose creates are idempotent by name).
 * - Errors `{code, message, details}` become ProviderError with the vendor's message, scrubbed of every secret.
 */

export const defaultTiDBCloudApiUrl = "https://serverless.tidbapi.com/v1beta1";

export type TiDBCloudClientOptions = {
  publicKey: string;
  privateKey: string;
  /** Default https://serverless.tidbapi.com/v1beta1. */
  apiUrl?: string;
  fetch?: typeof fetch;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  requestTimeoutMs?: number;
  maxRateLimitWaitMs?: number;
};

export type TiDBCloudRequest<T> = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the API URL, segments already encoded, e.g. `/clusters/123/branches`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** What the call does, for messages: "create the branch". */
  what: string;
  /** Values in this request that must never appear in an error (passwords). */
  secrets?: string[];
};

export type TiDBCloudClient = {
  request<T>(request: TiDBCloudRequest<T>): Promise<T>;
  /** As `request`, but a 404 answer is null. */
  requestOrNull<T>(request: TiDBCloudRequest<T>): Promise<T | null>;
};

const vendorErrorSchema = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  message: z.string().optional(),
});

const advice: Record<ProviderErrorKind, string> = {
  auth: "Check the TiDB Cloud API key (public and private key) in Settings; keys live under Organization Settings → API Keys in the TiDB Cloud console.",
  forbidden: "The API key may not do this: use a key of the organization that owns the project and cluster.",
  not_found: "It no longer exists in TiDB Cloud (it may have been deleted in the console).",
  conflict: "It already exists or is busy with another operation; retry when it is ACTIVE.",
  invalid: "TiDB Cloud refused the request as invalid; check the names, region and project id.",
  rate_limited: "TiDB Cloud allows 100 requests per minute per API key; retry later or use another key.",
  unavailable: "TiDB Cloud is unavailable right now; retry later.",
  timeout: "TiDB Cloud did not answer in time; retry later.",
  unsupported: "",
  internal: "TiDB Cloud answered in an unexpected way; retry, and report it if it persists.",
};

const idempotentMethods = new Set(["GET", "PUT", "PATCH", "DELETE"]);
const retryDelaysMs = [500, 1500];
const maxRateLimitRetries = 2;

export function createTiDBCloudClient(options: TiDBCloudClientOptions): TiDBCloudClient {
  const apiUrl = (options.apiUrl ?? defaultTiDBCloudApiUrl).replace(/\/+$/, "");
  const host = URL.canParse(apiUrl) ? new URL(apiUrl).host : apiUrl;
  const digestFetch: DigestFetch = createDigestFetch({
    username: options.publicKey,
    password: options.privateKey,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.requestTimeoutMs ?? 20_000;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;

  async function send<T>(request: TiDBCloudRequest<T>, allowNotFound: boolean): Promise<T | null> {
    const secrets = [options.privateKey, options.publicKey, ...(request.secrets ?? [])];
    const fail = (
      kind: ProviderErrorKind,
      detail: string,
      extra: { status?: number; retryAfterMs?: number } = {},
    ) =>
      new ProviderError(
        "tidbcloud",
        kind,
        scrub(`TiDB Cloud could not ${request.what}: ${detail}. ${advice[kind]}`.trim(), secrets),
        extra,
      );
    const url = new URL(`${apiUrl}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const idempotent = idempotentMethods.has(request.method);
    let rateLimitWaits = 0;
    for (let attempt = 0; ; attempt++) {
      const retryDelay = idempotent ? retryDelaysMs[attempt] : undefined;
      let response: Response;
      try {
        response = await digestFetch(url, {
          method: request.method,
          headers: {
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut =
          error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
        if (retryDelay !== undefined) {
          await sleep(retryDelay);
          continue;
        }
        const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
        if (timedOut) throw fail("timeout", `no answer from ${host} within ${limit}`);
        throw fail("unavailable", `could not reach ${host} (${networkReason(error)})`);
      }
      const text = await response.text();
      if (response.ok) return parseAnswer(request.schema, text, fail);
      if (response.status === 404 && allowNotFound) return null;
      if (response.status === 429) {
        const waitMs = rateLimitWaitMs(response.headers.get("x-ratelimit-reset"));
        if (rateLimitWaits < maxRateLimitRetries && waitMs <= maxRateLimitWaitMs) {
          rateLimitWaits += 1;
          await sleep(waitMs);
          attempt -= 1; // a rate-limited request was not processed: it does not use up a retry
          continue;
        }
        throw fail(
          "rate_limited",
          `${vendorDetail(text, response.status)}; the limit resets in ${Math.ceil(waitMs / 1000)} s`,
          {
            status: 429,
            retryAfterMs: waitMs,
          },
        );
      }
      if (response.status >= 500 && retryDelay !== undefined) {
        await sleep(retryDelay);
        continue;
      }
      throw fail(kindForStatus(response.status), vendorDetail(text, response.status), {
        status: response.status,
      });
    }
  }

  return {
    async request(request) {
      const answer = await send(request, false);
      if (answer === null)
        throw new ProviderError("tidbcloud", "internal", "Unreachable: 404 was not allowed.");
      return answer;
    },
    requestOrNull: (request) => send(request, true),
  };
}

function parseAnswer<T>(
  schema: z.ZodType<T>,
  text: string,
  fail: (kind: ProviderErrorKind, detail: string) => ProviderError,
): T {
  let raw: unknown;
  try {
    raw = text === "" ? {} : JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) throw fail("internal", "the answer was not JSON");
    throw error;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail(
      "internal",
      `the answer had an unexpected shape (${issue?.path.join(".") || "body"}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

function vendorDetail(text: string, status: number): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    raw = undefined;
  }
  const parsed = vendorErrorSchema.safeParse(raw);
  const message = parsed.success ? parsed.data.message?.slice(0, 300) : undefined;
  const code = parsed.success && parsed.data.code !== undefined ? `, code ${parsed.data.code}` : "";
  return message ? `${message} (HTTP ${status}${code})` : `HTTP ${status}`;
}

/** X-Ratelimit-Reset is seconds until the window resets; an epoch-seconds value is tolerated too. */
export function rateLimitWaitMs(header: string | null, now = Date.now()): number {
  const seconds = Number(header);
  if (!header || !Number.isFinite(seconds) || seconds < 0) return 60_000;
  const relative = seconds > 1_000_000_000 ? seconds - now / 1000 : seconds;
  return Math.max(1000, Math.ceil(relative) * 1000);
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a refused port…) is on its cause. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return "code" in cause && cause.code ? String(cause.code) : cause.message;
  return error instanceof Error ? error.message : "network error";
}
