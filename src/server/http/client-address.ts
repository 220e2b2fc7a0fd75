import net from "node:net";

/**
 * The header through which Kiln's own HTTP front (scripts/lib/run-next.ts) tells the app who the client is. The
 * front overwrites whatever a client sent under this name; the app believes it only when that front is running in
 * this process (see `isClientAddressStamped`), because Next.js gives route handlers and actions no socket.
 */
export const CLIENT_ADDRESS_HEADER = "x-kiln-client-address";

const STAMPED = Symbol.for("kiln.clientAddressStamped");

/** Called once by the front before it serves: from then on the header above is the front's word, not the client's. */
export function markClientAddressStamped(): void {
  Reflect.set(globalThis, STAMPED, true);
}

export function isClientAddressStamped(): boolean {
  return Reflect.get(globalThis, STAMPED) === true;
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is the same client as `192.0.2.1`. */
export function normalizeAddress(address: string): string | null {
  const trimmed = address.trim().replace(/^\[(.*)\]$/, "$1");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed)?.[1];
  const candidate = mapped ?? trimmed;
  const family = net.isIP(candidate);
  if (family === 4) return candidate;
  if (family === 6) return candidate.toLowerCase();
  return null;
}

/** Whether a proxy entry (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`) is well formed; used by the env schema. */
export function isProxyEntry(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split("/");
  if (rest.length > 0 || !address) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

export type TrustedProxies = { check(address: string): boolean };

/** The proxies whose X-Forwarded-For Kiln believes. An empty list trusts nobody: the socket's peer is the client. */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const type = net.isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    check(address) {
      return list.check(address, net.isIP(address) === 6 ? "ipv6" : "ipv4");
    },
  };
}

/**
 * Who the client is. Starting from the socket's peer, each hop that is a trusted proxy hands over to the address
 * it says it forwarded for (the right-most X-Forwarded-For entry it appended); the first untrusted hop is the
 * client. A client cannot move this by sending its own X-Forwarded-For: entries left of the last untrusted hop
 * are never read, and without trusted proxies none are.
 */
export function resolveClientAddress(
  peerAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: TrustedProxies,
): string | null {
  let client = peerAddress ? normalizeAddress(peerAddress) : null;
  if (!client) return null;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  while (proxies.check(client)) {
    const hop = hops.pop();
    const forwarded = hop === undefined ? null : normalizeAddress(hop);
    // A trusted proxy that names nobody (or garbage) is itself the best we know.
    if (!forwarded) break;
    client = forwarded;
  }
  return client;
}
