import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { networkReason } from "@/server/integrations/network-reason";
import { PlannerError, type PlannerErrorKind, type PlannerProvider } from "./planner-error";

/**
 * Turns whatever an SDK call threw into a PlannerError an operator can act on: who answered, the status, what to
 * do. Never what the upstream said: the message becomes the revision's error, which the public replay shows, and
 * an upstream's body may be anything (an internal page, an echoed key). The SDK error stays as the `cause`.
 */

export type CallContext = {
  provider: PlannerProvider;
  /** "OpenAI", or "OpenAI at proxy.example.com" for a custom base URL. */
  label: string;
  model: string;
  timeoutMs: number;
  signal: AbortSignal;
  secrets: string[];
};

export function vendorName(provider: PlannerProvider): string {
  return provider === "openai"
    ? "OpenAI"
    : provider === "anthropic"
      ? "Anthropic"
      : "OpenAI-compatible server";
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function statusError(error: { status: number; headers?: Headers; error?: unknown }, context: CallContext) {
  const { provider, label, model } = context;
  const { status } = error;
  const keyHint =
    provider === "openai"
      ? "create a new key at platform.openai.com/api-keys"
      : provider === "anthropic"
        ? "create a new key at console.anthropic.com/settings/keys"
        : "check what the server expects";
  const messages: Partial<Record<PlannerErrorKind, string>> = {
    // No vendor note: OpenAI's quotes part of the key it refused.
    auth: `${label} rejected the planner's API key (HTTP 401). Check the ${vendorName(provider)} credential in Settings: it may be mistyped, revoked or expired; ${keyHint}.`,
    forbidden: `${label} refused the planning request (HTTP 403). Check that the key's project or workspace may use the model "${model}".`,
    not_found: `${label} does not know the model "${model}" (HTTP 404). Check the planner model name, and the base URL if you set one.`,
    invalid_request: `${label} refused the planning request as invalid (HTTP ${status}). Check that the model "${model}" supports ${provider === "anthropic" ? "tool use" : "structured outputs (json_schema)"}.`,
    rate_limited: `${label} is rate limiting the planner (HTTP 429). Try again in a minute, or raise the key's rate limits.`,
    timeout: `${label} timed out planning the app (HTTP ${status}). Try again.`,
    unavailable: `${label} failed to answer the planning request (HTTP ${status}). This is usually temporary: try again in a few minutes.`,
    internal: `${label} answered the planning request with an unexpected HTTP ${status}.`,
  };
  const kind = kindForStatus(status);
  return new PlannerError(provider, kind, messages[kind] ?? `${label} answered HTTP ${status}.`, {
    status,
    retryAfterMs: status === 429 ? retryAfterMs(error.headers) : undefined,
    cause: error,
  });
}

function kindForStatus(status: number): PlannerErrorKind {
  if (status === 401) return "auth";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 400 || status === 413 || status === 422) return "invalid_request";
  if (status === 429) return "rate_limited";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "unavailable";
  return "internal";
}

function timeoutError(context: CallContext, cause: unknown): PlannerError {
  const seconds =
    context.timeoutMs >= 1000 ? `${Math.round(context.timeoutMs / 1000)} s` : `${context.timeoutMs} ms`;
  return new PlannerError(
    context.provider,
    "timeout",
    `${context.label} did not finish planning within ${seconds}. Try again; if it keeps happening, the model may be overloaded.`,
    { cause },
  );
}

export function classifySdkError(error: unknown, context: CallContext): PlannerError {
  const sdk = context.provider === "anthropic" ? Anthropic : OpenAI;
  if (
    context.signal.aborted ||
    error instanceof sdk.APIConnectionTimeoutError ||
    (error instanceof Error && error.name === "TimeoutError")
  ) {
    return timeoutError(context, error);
  }
  if (error instanceof sdk.APIConnectionError) {
    return new PlannerError(
      context.provider,
      "unavailable",
      `Could not reach ${context.label} to plan the app (${networkReason(error) ?? "network error"}). Check the network and the base URL, then try again.`,
      { cause: error },
    );
  }
  if (error instanceof sdk.APIError && typeof error.status === "number") {
    return statusError({ status: error.status, headers: error.headers, error: error.error }, context);
  }
  // An SDK's own message may quote the body it could not parse ("Unexpected token '<', "<html>…"").
  const what = error instanceof Error ? error.name : "unknown error";
  return new PlannerError(context.provider, "internal", `Planning with ${context.label} failed (${what}).`, {
    cause: error,
  });
}
