import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Where an operator's model base URL may point. Kiln's server calls it (credential checks, the planner, the model
 * gateway) with the operator's path and query, so a URL naming a loopback, private or metadata address would make
 * Kiln a proxy into its own network. Unless the platform allows private hosts (KILN_ALLOW_PRIVATE_MODEL_URLS, for
 * Ollama or vLLM beside Kiln), an operator's base URL must be https:// and every address its host resolves to must
 * be public. The check runs when the credential is saved AND before each connection, so a DNS answer that changes
 * after the save (rebinding) is caught too. Platform base URLs from the environment are the platform's own choice
 * and are not restricted.
 */

export type ModelUrlPolicy = { allowPrivate: boolean };

export type UrlCheck = { ok: true } | { ok: false; reason: string };

export type LookupAll = (hostname: string) => Promise<string[]>;

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b::", 96], // NAT64 of IPv4: the embedded address decides, and we cannot vouch for it
  ["64:ff9b:1::", 48],
  ["100::", 64], // discard
  ["2001::", 23], // IETF protocol assignments (Teredo, ORCHID…)
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: embeds an IPv4 address
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

const mappedIPv4 = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i;
const mappedIPv4Hex = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/** The IPv4 address inside an IPv4-mapped (or -translated) IPv6 address, in either notation. */
function embeddedIPv4(address: string): string | undefined {
  const dotted = mappedIPv4.exec(address);
  if (dotted) return dotted[1];
  const hex = mappedIPv4Hex.exec(address);
  if (!hex?.[1] || !hex[2]) return undefined;
  const high = Number.parseInt(hex[1], 16);
  const low = Number.parseInt(hex[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** True for an address Kiln must not connect to on an operator's behalf; also for anything that is not an IP. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = embeddedIPv4(bare);
  if (v4 !== undefined) return isNonPublicAddress(v4);
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, "ipv4");
  if (family === 6) return blocked.check(bare, "ipv6");
  return true;
}

const systemLookup: LookupAll = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Checks a base URL against the policy; resolves its host unless it is an IP literal. Never throws. */
export async function checkModelBaseUrl(
  raw: string,
  policy: ModelUrlPolicy,
  resolve: LookupAll = systemLookup,
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return { ok: false, reason: "it is not a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: "only http(s) URLs are supported" };
  }
  if (url.username || url.password) return { ok: false, reason: "it must not carry a user name or password" };
  if (policy.allowPrivate) return { ok: true };
  if (url.protocol !== "https:") {
    return { ok: false, reason: "it must use https:// (this Kiln does not allow private model hosts)" };
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      return { ok: false, reason: `its host ${host} could not be resolved` };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `its host ${host} has no address` };
  if (addresses.some(isNonPublicAddress)) {
    return {
      ok: false,
      reason: `its host ${host} is a loopback, private or link-local address, which this Kiln does not allow (KILN_ALLOW_PRIVATE_MODEL_URLS)`,
    };
  }
  return { ok: true };
}
