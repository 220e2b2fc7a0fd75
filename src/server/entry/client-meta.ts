import type { SessionMeta } from "@/server/auth/auth-sessions";
import { CLIENT_ADDRESS_HEADER, isClientAddressStamped, normalizeAddress } from "../http/client-address";

type HeaderReader = { get(name: string): string | null };

/**
 * The client's address (for rate limits and the session list) as Kiln's front resolved it from the socket and the
 * trusted proxies. X-Forwarded-For and X-Real-IP are never read here: any client can send them.
 */
export function clientMeta(headers: HeaderReader): SessionMeta {
  const stamped = isClientAddressStamped() ? headers.get(CLIENT_ADDRESS_HEADER) : null;
  return { ip: stamped ? normalizeAddress(stamped) : null, userAgent: headers.get("user-agent") };
}
