import {
  BlobAccessError,
  BlobContentTypeNotAllowedError,
  BlobError,
  BlobFileTooLargeError,
  BlobNotFoundError,
  BlobPreconditionFailedError,
  BlobRequestAbortedError,
  BlobServiceNotAvailable,
  BlobServiceRateLimited,
  BlobStoreNotFoundError,
  BlobStoreSuspendedError,
  BlobUnknownError,
} from "@vercel/blob";
import { kindForStatus, ProviderError, type ProviderErrorKind, scrub } from "../provider-error";

/**
 * @vercel/blob error classes → ProviderError. The SDK drops HTTP statuses and keeps only its own classes, so the
 * mapping is by class; an unrecognised answer (BlobUnknownError: a 5xx, or a body without a known code) counts as
 * an outage, which is also what the SDK itself retries.
 */

export type BlobCallContext = { action: string; token: string; timeoutMs: number };

function make(
  kind: ProviderErrorKind,
  message: string,
  context: BlobCallContext,
  cause: unknown,
  extra: { status?: number; retryAfterMs?: number } = {},
): ProviderError {
  return new ProviderError("vercel", kind, scrub(message, [context.token]), { ...extra, cause });
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

export function vercelBlobError(error: unknown, context: BlobCallContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const { action } = context;
  if (error instanceof BlobAccessError) {
    return make(
      "auth",
      `Vercel Blob refused the token while ${action}: use a read-write token of this Blob store ` +
        "(Storage → your store → .env.local, BLOB_READ_WRITE_TOKEN) in the Vercel blob credential.",
      context,
      error,
    );
  }
  if (error instanceof BlobStoreNotFoundError) {
    return make(
      "not_found",
      `Vercel Blob says the store behind this token does not exist (while ${action}): create a Blob store and ` +
        "use its read-write token.",
      context,
      error,
    );
  }
  if (error instanceof BlobStoreSuspendedError) {
    return make(
      "forbidden",
      `The Vercel Blob store is suspended (while ${action}): check the team's plan and usage in the Vercel dashboard.`,
      context,
      error,
    );
  }
  if (error instanceof BlobServiceRateLimited) {
    const retryAfterMs = error.retryAfter > 0 ? error.retryAfter * 1000 : undefined;
    const when = retryAfterMs ? ` in ${error.retryAfter} s` : " shortly";
    return make("rate_limited", `Vercel Blob rate-limited ${action}: retry${when}.`, context, error, {
      status: 429,
      ...(retryAfterMs ? { retryAfterMs } : {}),
    });
  }
  if (error instanceof BlobServiceNotAvailable || error instanceof BlobUnknownError) {
    return make(
      "unavailable",
      `Vercel Blob failed while ${action} (service unavailable or an unrecognised answer): retry later; ` +
        "check https://www.vercel-status.com if it persists.",
      context,
      error,
    );
  }
  if (error instanceof BlobRequestAbortedError || isAbort(error)) {
    return make(
      "timeout",
      `Vercel Blob did not finish ${action} within ${context.timeoutMs / 1000} s: retry later.`,
      context,
      error,
    );
  }
  if (error instanceof BlobFileTooLargeError || error instanceof BlobContentTypeNotAllowedError) {
    return make("invalid", `Vercel Blob refused ${action}: ${error.message}`, context, error);
  }
  if (error instanceof BlobPreconditionFailedError) {
    return make("conflict", `Vercel Blob refused ${action}: the blob changed meanwhile.`, context, error);
  }
  if (error instanceof BlobNotFoundError) {
    return make("not_found", `Vercel Blob has no such blob (while ${action}).`, context, error);
  }
  if (error instanceof BlobError) {
    // The SDK's remaining errors are request problems it reports in words (e.g. bad_request with a message).
    return make("invalid", `Vercel Blob refused ${action}: ${error.message}`, context, error);
  }
  if (error instanceof TypeError) {
    return make(
      "unavailable",
      `Could not reach Vercel Blob while ${action} (${error.message}): check the network and VERCEL_BLOB_API_URL.`,
      context,
      error,
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return make("internal", `Vercel Blob failed unexpectedly while ${action}: ${detail}`, context, error);
}

/** For the body download, which is a plain fetch of the blob's URL rather than an SDK call. */
export function vercelBlobStatusError(status: number, context: BlobCallContext): ProviderError {
  const kind = kindForStatus(status);
  const advice =
    kind === "auth" || kind === "forbidden"
      ? "check that the blob credential is a read-write token of the store holding this blob"
      : kind === "rate_limited" || kind === "unavailable" || kind === "timeout"
        ? "retry later"
        : "check the server log";
  return make(
    kind,
    `Vercel Blob answered ${status} while ${context.action}: ${advice}.`,
    context,
    undefined,
    {
      status,
    },
  );
}
