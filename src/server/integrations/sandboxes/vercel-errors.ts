import { APIError, StreamError } from "@vercel/sandbox";
import { z } from "zod";
import { kindForStatus, ProviderError, type ProviderErrorKind, scrub } from "../provider-error";

/**
 * Maps what @vercel/sandbox throws to ProviderError. The SDK throws `APIError` (carrying the HTTP response and
 * the parsed `{error: {code, message}}` body) for non-2xx answers after its own retries (2 retries on 429/5xx),
 * `StreamError` when a command's NDJSON stream reports an error or ends early, and plain fetch errors for
 * network failures. Messages are scrubbed of the token; the SDK error itself is not kept as `cause` because its
 * `text`/`json` fields hold the vendor's raw answer.
 */

const errorBodySchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    invalidToken: z.boolean().optional(),
    missingToken: z.boolean().optional(),
  }),
});

const hints: Record<ProviderErrorKind, string> = {
  auth: "Check the Vercel access token configured for sandboxes; it is missing, wrong or expired.",
  forbidden: "The Vercel token has no access to the configured team or project; use a token of that team.",
  not_found: "The sandbox (or the configured project) does not exist on Vercel.",
  conflict: "The sandbox has stopped or is busy; create a new sandbox.",
  invalid: "Vercel refused the request as invalid; check the sandbox settings (ports, timeout, vCPUs).",
  rate_limited: "Vercel is rate-limiting sandbox calls; retry after a pause.",
  unavailable: "Vercel Sandbox is unreachable or failing; retry shortly.",
  timeout: "Vercel did not answer in time; retry.",
  unsupported: "Vercel Sandbox cannot do this.",
  internal: "Vercel answered in an unexpected shape; check the @vercel/sandbox version.",
};

export function vercelSandboxError(
  action: string,
  error: unknown,
  secrets: ReadonlyArray<string>,
  timeoutMs?: number,
): ProviderError {
  if (error instanceof ProviderError) return error;
  const make = (
    kind: ProviderErrorKind,
    detail: string,
    { hint, ...options }: { status?: number; retryAfterMs?: number; cause?: unknown; hint?: string } = {},
  ) =>
    new ProviderError(
      "vercel",
      kind,
      scrub(`Vercel Sandbox: ${action} failed${detail}. ${hint ?? hints[kind]}`, secrets),
      options,
    );

  if (error instanceof APIError) {
    const status = error.response.status;
    const body = errorBodySchema.safeParse(error.json);
    const vendor = body.success ? body.data.error : undefined;
    let kind = status >= 200 && status < 300 ? "internal" : kindForStatus(status);
    // Vercel answers a bad or missing token with 403 and a flag rather than 401.
    if (status === 403 && (vendor?.invalidToken || vendor?.missingToken)) kind = "auth";
    // 410 Gone: the session stopped; 422 sandbox_stopping: it is stopping.
    if (status === 410 || vendor?.code === "sandbox_stopping" || vendor?.code === "sandbox_stopped")
      kind = "conflict";
    // 410 snapshot_not_found: creating from a snapshot that expired, was deleted or never existed.
    const snapshotGone = vendor?.code === "snapshot_not_found";
    if (snapshotGone) kind = "not_found";
    const code = vendor?.code ? `, ${vendor.code}` : "";
    const message = vendor?.message ?? (status >= 200 && status < 300 ? error.message : "");
    return make(kind, ` (HTTP ${status}${code})${message ? `: ${message.slice(0, 300)}` : ""}`, {
      status,
      retryAfterMs: retryAfterMs(error.response.headers.get("retry-after")),
      hint: snapshotGone
        ? "The snapshot expired or was deleted; build it again from a fresh sandbox."
        : undefined,
    });
  }
  if (error instanceof StreamError) {
    const kind = /stop|gone|terminat/i.test(error.code) ? "conflict" : "unavailable";
    return make(kind, ` (stream ${error.code}: ${error.message.slice(0, 300)})`);
  }
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return make("timeout", timeoutMs ? ` (no answer within ${timeoutMs} ms)` : " (aborted)");
  }
  if (error instanceof z.ZodError)
    return make("internal", ` (unexpected answer: ${error.message.slice(0, 300)})`);
  if (error instanceof TypeError && /fetch failed|network|socket/i.test(error.message)) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return make("unavailable", ` (network error${cause})`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return make("internal", ` (${detail.slice(0, 300)})`, { cause: error });
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
