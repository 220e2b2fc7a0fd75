/**
 * What differs between the two wire protocols the gateway speaks: where the client's run token is, where the
 * upstream endpoint is, how the operator's key is sent, and what an error body looks like (each CLI only shows
 * errors in its own vendor's shape).
 */

export type GatewayProtocol = "openai-responses" | "anthropic-messages";
export type GatewayProvider = "openai" | "anthropic";

export const providerOf: Record<GatewayProtocol, GatewayProvider> = {
  "openai-responses": "openai",
  "anthropic-messages": "anthropic",
};

export const vendorLabel: Record<GatewayProvider, string> = { openai: "OpenAI", anthropic: "Anthropic" };

function bearer(headers: Headers): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  return match?.[1];
}

/** Codex sends `Authorization: Bearer`; Claude Code sends `x-api-key` or (ANTHROPIC_AUTH_TOKEN) a Bearer. */
export function runTokenFrom(protocol: GatewayProtocol, headers: Headers): string | undefined {
  if (protocol === "openai-responses") return bearer(headers);
  return headers.get("x-api-key")?.trim() || bearer(headers);
}

/**
 * The upstream endpoint. OpenAI base URLs include the API version (`https://api.openai.com/v1`), Anthropic's do
 * not (`https://api.anthropic.com`). The client's query string (Claude Code's `?beta=true`) is kept.
 */
export function upstreamUrl(protocol: GatewayProtocol, baseUrl: string, search: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  const path = protocol === "openai-responses" ? "/responses" : "/v1/messages";
  return `${base}${path}${search}`;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and what only the gateway itself may decide: the client's credentials
// (its run token), where it came from, and transfer encodings (fetch negotiates its own).
const dropFromClient = new Set([
  "authorization",
  "x-api-key",
  "cookie",
  "host",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "accept-encoding",
  "expect",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-real-ip",
  "origin",
  "referer",
  // The operator's account decides these, not the sandbox.
  "openai-organization",
  "openai-project",
]);

/** The client's headers minus the above, plus the operator's key the way the vendor wants it. */
export function upstreamHeaders(protocol: GatewayProtocol, client: Headers, apiKey: string): Headers {
  const headers = new Headers();
  client.forEach((value, name) => {
    if (!dropFromClient.has(name) && !name.startsWith("x-kiln-")) headers.set(name, value);
  });
  if (protocol === "openai-responses") {
    headers.set("authorization", `Bearer ${apiKey}`);
  } else {
    headers.set("x-api-key", apiKey);
    // Claude Code always sends it; a hand-made client may not, and the API refuses a request without it.
    if (!headers.has("anthropic-version")) headers.set("anthropic-version", "2023-06-01");
  }
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return headers;
}

const dropFromUpstream = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // fetch has already decoded the body, so the length and encoding no longer describe what we send on.
  "content-encoding",
  "content-length",
  "set-cookie",
]);

export function clientResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers();
  upstream.forEach((value, name) => {
    if (!dropFromUpstream.has(name)) headers.set(name, value);
  });
  return headers;
}

export type GatewayErrorType =
  | "authentication_error"
  | "permission_error"
  | "invalid_request_error"
  | "budget_exceeded"
  | "request_too_large"
  | "upstream_unavailable"
  | "upstream_timeout"
  | "api_error";

/**
 * An error answer in the protocol's own shape. `code` is Kiln's (the auth-boundary test and the runner read it);
 * `type` and `message` are what the CLIs show. `x-should-retry: false` tells SDK-based clients (Claude Code) that
 * retrying will not help.
 */
export function gatewayError(
  protocol: GatewayProtocol,
  status: number,
  error: { type: GatewayErrorType; code: string; message: string; retry?: boolean },
): Response {
  const body =
    protocol === "openai-responses"
      ? { error: { message: error.message, type: error.type, param: null, code: error.code } }
      : { type: "error", error: { type: error.type, code: error.code, message: error.message } };
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (error.retry === false) headers["x-should-retry"] = "false";
  return Response.json(body, { status, headers });
}
