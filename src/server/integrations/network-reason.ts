const networkCodes = new Map<string, string>([
  ["ECONNREFUSED", "connection refused"],
  ["ENOTFOUND", "host not found"],
  ["EAI_AGAIN", "DNS lookup failed"],
  ["ECONNRESET", "connection reset"],
  ["EPIPE", "connection closed"],
  ["ETIMEDOUT", "connection timed out"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["UND_ERR_SOCKET", "connection closed by the server"],
  ["UND_ERR_CONNECT_TIMEOUT", "connection timed out"],
  ["UND_ERR_HEADERS_TIMEOUT", "no response headers in time"],
]);

/**
 * The network failure in an error's cause chain, in words ("connection refused"); undefined when there is none
 * it knows. fetch and the SDKs say only "fetch failed" or "Connection error."; the reason is a cause or two down.
 */
export function networkReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if ("code" in current && typeof current.code === "string") {
      const known = networkCodes.get(current.code);
      if (known) return known;
      if (current.code.startsWith("ERR_TLS") || current.code.includes("CERT"))
        return `TLS error: ${current.code}`;
    }
    current = current.cause;
  }
  return undefined;
}
