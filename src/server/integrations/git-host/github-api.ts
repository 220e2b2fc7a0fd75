import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { kindForStatus, ProviderError, type ProviderErrorKind, scrub } from "../provider-error";

/**
 * The one door to GitHub's REST API for the GitHost adapter: every call has a time limit, a description of what it
 * was doing (for the operator), zod-checked answers, and failures mapped to ProviderError with the token scrubbed.
 * Only idempotent calls are retried, at most twice, and only for outages and timeouts.
 */

export type GitHubApiOptions = {
  token: string;
  apiUrl: string;
  fetch?: typeof fetch;
  timeoutMs: number;
};

export type CallOptions = {
  /** What Kiln was doing, for messages: "creating repository acme/todo". */
  action: string;
  /** Message for a 403 that is not a rate limit: which permission the token lacks. */
  forbidden?: string;
  /** Message for a 404. */
  notFound?: string;
  /** Safe to repeat (reads; content-addressed writes such as blobs and trees). */
  idempotent?: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Hands back the body as a stream (downloads) instead of parsed JSON. */
  stream?: boolean;
};

export type Refusal = { ok: false; status: number; message: string };
export type Answer<T> = { ok: true; data: T } | Refusal;

const requestErrorSchema = z.object({
  status: z.number(),
  response: z.object({ headers: z.record(z.string(), z.unknown()), data: z.unknown() }).optional(),
});

const errorBodySchema = z.looseObject({
  message: z.string().optional(),
  errors: z
    .array(
      z.union([
        z.string(),
        z.looseObject({
          message: z.string().optional(),
          code: z.string().optional(),
          field: z.string().optional(),
        }),
      ]),
    )
    .optional(),
});

// Octokit logs deprecations and request lines to the console by default; nothing of a call may reach a log.
const silentLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const maxAttempts = 3;

export type GitHubApi = {
  /** Calls `route`; any non-2xx answer throws a ProviderError. */
  call<T>(
    route: string,
    params: Record<string, unknown>,
    schema: z.ZodType<T>,
    options: CallOptions,
  ): Promise<T>;
  /** Like call, but the statuses in `handled` come back as a Refusal for the caller to decide on. */
  attempt<T>(
    route: string,
    params: Record<string, unknown>,
    schema: z.ZodType<T>,
    options: CallOptions & { handled: number[] },
  ): Promise<Answer<T>>;
  readonly secrets: ReadonlyArray<string>;
};

export function createGitHubApi(options: GitHubApiOptions): GitHubApi {
  const secrets = [options.token];
  const host = URL.canParse(options.apiUrl) ? new URL(options.apiUrl).host : options.apiUrl;
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.apiUrl.replace(/\/+$/, ""),
    userAgent: "kiln",
    log: silentLog,
    request: options.fetch ? { fetch: options.fetch } : {},
  });

  async function sendOnce(
    route: string,
    params: Record<string, unknown>,
    call: CallOptions,
  ): Promise<
    { ok: true; data: unknown } | { ok: false; error: ProviderError; status?: number; message: string }
  > {
    const timeoutMs = call.timeoutMs ?? options.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await octokit.request(route, {
        ...params,
        headers: { "x-github-api-version": "2022-11-28", ...call.headers },
        request: { signal, ...(call.stream ? { parseSuccessResponseBody: false } : {}) },
      });
      const data: unknown = response.data;
      return { ok: true, data };
    } catch (error) {
      if (signal.aborted) {
        return {
          ok: false,
          message: "timeout",
          error: new ProviderError(
            "github",
            "timeout",
            `GitHub did not answer within ${Math.round(timeoutMs / 1000)} s while ${call.action}. Retry later; if it keeps happening, check that ${host} is reachable from this server.`,
            { cause: error },
          ),
        };
      }
      const parsed = requestErrorSchema.safeParse(error);
      if (!parsed.success || !parsed.data.response) {
        const reason = scrub(describeNetworkError(error), secrets);
        return {
          ok: false,
          message: reason,
          error: new ProviderError(
            "github",
            "unavailable",
            `Could not reach GitHub at ${host} while ${call.action} (${reason}). Check the network, or the GitHub API URL in Settings.`,
            { cause: error },
          ),
        };
      }
      const { status, response } = parsed.data;
      const message = scrub(vendorMessage(response.data), secrets);
      return {
        ok: false,
        status,
        message,
        error: statusError(status, response.headers, message, call, secrets),
      };
    }
  }

  async function send(
    route: string,
    params: Record<string, unknown>,
    call: CallOptions,
    handled: number[],
  ): Promise<{ ok: true; data: unknown } | Refusal> {
    let lastError: ProviderError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** (attempt - 2)));
      const outcome = await sendOnce(route, params, call);
      if (outcome.ok) return outcome;
      // A rate limit is never the caller's refusal to handle: a 403 may be either, and only the headers tell.
      if (
        outcome.status !== undefined &&
        handled.includes(outcome.status) &&
        outcome.error.kind !== "rate_limited"
      )
        return { ok: false, status: outcome.status, message: outcome.message };
      lastError = outcome.error;
      if (!call.idempotent || !isTransient(outcome.error.kind)) break;
    }
    throw lastError ?? new ProviderError("github", "internal", `No attempt was made while ${call.action}.`);
  }

  function parse<T>(schema: z.ZodType<T>, data: unknown, call: CallOptions): T {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new ProviderError(
      "github",
      "internal",
      scrub(`GitHub answered in an unexpected shape while ${call.action} (${issues}).`, secrets),
    );
  }

  return {
    secrets,
    async call(route, params, schema, call) {
      const outcome = await send(route, params, call, []);
      if (!outcome.ok)
        throw new ProviderError("github", "internal", `Unhandled refusal while ${call.action}.`);
      return parse(schema, outcome.data, call);
    },
    async attempt(route, params, schema, call) {
      const outcome = await send(route, params, call, call.handled);
      if (!outcome.ok) return outcome;
      return { ok: true, data: parse(schema, outcome.data, call) };
    },
  };
}

function isTransient(kind: ProviderErrorKind): boolean {
  return kind === "unavailable" || kind === "timeout";
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error && "code" in cause && typeof cause.code === "string") return cause.code;
  return error.message;
}

function vendorMessage(data: unknown): string {
  const parsed = errorBodySchema.safeParse(data);
  if (!parsed.success) return typeof data === "string" ? data.slice(0, 300) : "";
  const details = (parsed.data.errors ?? [])
    .map((entry) => (typeof entry === "string" ? entry : (entry.message ?? entry.code ?? "")))
    .filter(Boolean);
  return [parsed.data.message, ...details].filter(Boolean).join(": ");
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

function statusError(
  status: number,
  headers: Record<string, unknown>,
  vendor: string,
  call: CallOptions,
  secrets: ReadonlyArray<string>,
): ProviderError {
  const says = vendor ? ` (GitHub says: "${vendor}")` : "";
  const make = (kind: ProviderErrorKind, message: string, retryAfterMs?: number) =>
    new ProviderError("github", kind, scrub(message, secrets), { status, retryAfterMs });

  const retryAfter = Number(header(headers, "retry-after"));
  if ((status === 403 || status === 429) && Number.isFinite(retryAfter) && retryAfter > 0) {
    return make(
      "rate_limited",
      `GitHub asked Kiln to slow down while ${call.action} (secondary rate limit); retry in ${Math.ceil(retryAfter)} s.`,
      retryAfter * 1000,
    );
  }
  if ((status === 403 || status === 429) && header(headers, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(headers, "x-ratelimit-reset"));
    const retryAfterMs = Number.isFinite(reset) ? Math.max(0, reset * 1000 - Date.now()) : undefined;
    const when =
      retryAfterMs === undefined ? "later" : `in about ${Math.max(1, Math.ceil(retryAfterMs / 60_000))} min`;
    return make(
      "rate_limited",
      `GitHub's API rate limit for this token is used up (while ${call.action}); it resets ${when}. Retry after that.`,
      retryAfterMs,
    );
  }
  switch (status) {
    case 401:
      return make(
        "auth",
        `GitHub rejected the token while ${call.action}: it is wrong, expired or revoked. Check it in Settings.`,
      );
    case 403:
      return make(
        "forbidden",
        call.forbidden ??
          `GitHub refused ${call.action}${says}: the token lacks a permission. A fine-grained token needs Contents: write on the repository; a classic token needs the repo scope.`,
      );
    case 404:
      return make(
        "not_found",
        call.notFound ??
          `GitHub found nothing while ${call.action}: the repository may have been deleted or renamed, or the token cannot see it.`,
      );
    case 429:
      return make(
        "rate_limited",
        `GitHub is rate limiting this token while ${call.action}; retry in a minute.`,
      );
    default:
      break;
  }
  if (status >= 500) {
    return make(
      kindForStatus(status),
      `GitHub had a server error (${status}) while ${call.action}; retry later (githubstatus.com shows outages).`,
    );
  }
  const kind = kindForStatus(status);
  const verdict =
    kind === "conflict" ? "as conflicting" : kind === "invalid" ? "as invalid" : `with ${status}`;
  return make(kind, `GitHub refused ${call.action} ${verdict}${says}.`);
}
