import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Duplex } from "node:stream";
import { isNonPublicAddress, type LookupAll } from "@/server/credentials/model-url-policy";
import { errnoOf } from "./local-errors";

/**
 * The only way out of a local sandbox's network namespace. Inside, `127.0.0.1:<egressPort>` is forwarded to this
 * server's Unix socket (outside the sandbox's mounts). Two kinds of request arrive:
 * - origin-form (`GET /gateway/v1/…`): the sandbox's door to the platform. Only the model gateway and this
 *   sandbox's own webhook path are forwarded to the platform; the rest of Kiln (its API, pages, other sandboxes'
 *   webhooks) answers 403 here and is never reached.
 * - absolute-form (`GET http://host/…`) and `CONNECT host:443`: a forward proxy to hosts on the allow-list (the
 *   package registry plus the operator's list). Names are resolved here and every address must be public, and the
 *   connection goes to the address that was checked, so a DNS answer pointing at the host's loopback or private
 *   network (rebinding) is refused as well.
 */

export type EgressPolicy = {
  /** Host names (`registry.npmjs.org`, `*.example.com`), optionally `:port`; bare names allow ports 80 and 443. */
  allowedHosts: string[];
  /**
   * Allowed hosts the platform's administrator configured for the platform itself (its package registry): what
   * they resolve to is not filtered, since a self-hosted registry mirror often lives on a private network.
   */
  trustedHosts: string[];
  resolve: LookupAll;
  /** Addresses never connected to. Default: loopback, private, link-local, CGNAT, multicast… (tests may widen). */
  isRefusedAddress: (address: string) => boolean;
};

export type EgressDoor = {
  /** Where the door forwards to: the platform's base URL as the platform gave it; undefined: closed (503). */
  target: string | undefined;
  /** The webhook id (`/hooks/v1/sandboxes/<id>`) this sandbox may post to; undefined: none. */
  webhookId: string | undefined;
};

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
]);

const webhookIdPattern = /^[A-Za-z0-9_-]{1,100}$/;

/** Whether an origin-form path may pass the door: the gateway, or exactly this sandbox's own webhook. */
export function isDoorPath(pathname: string, door: EgressDoor): boolean {
  if (pathname.includes("..") || pathname.includes("//") || pathname.includes("%")) return false;
  if (pathname.startsWith("/gateway/v1/")) return true;
  return door.webhookId !== undefined && pathname === `/hooks/v1/sandboxes/${door.webhookId}`;
}

export function assertWebhookId(id: string): string {
  if (!webhookIdPattern.test(id)) throw new Error(`invalid webhook id ${JSON.stringify(id)}`);
  return id;
}

/** `host` or `host:port` entries; `*.` prefix matches subdomains only. */
export function isAllowedHost(host: string, port: number, allowed: string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return allowed.some((entry) => {
    const match = /^(.+?)(?::(\d+))?$/.exec(entry.trim().toLowerCase());
    if (!match?.[1]) return false;
    const pattern = match[1];
    const ports = match[2] ? [Number(match[2])] : [80, 443];
    if (!ports.includes(port)) return false;
    if (pattern.startsWith("*.")) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
    return name === pattern;
  });
}

function refuse(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
  res.end(`${message}\n`);
}

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(key.toLowerCase())) out[key] = value;
  }
  return out;
}

/** The one public address to connect to for an allowed host, or why not. */
async function checkedAddress(
  host: string,
  port: number,
  policy: EgressPolicy,
): Promise<{ ok: true; address: string } | { ok: false; status: number; reason: string }> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (!isAllowedHost(bare, port, policy.allowedHosts)) {
    return { ok: false, status: 403, reason: `${bare}:${port} is not on this platform's sandbox allow-list` };
  }
  let addresses: string[];
  try {
    addresses = net.isIP(bare) ? [bare] : await policy.resolve(bare);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { ok: false, status: 502, reason: `${bare} could not be resolved` };
  }
  const address = addresses[0];
  if (!address) return { ok: false, status: 502, reason: `${bare} has no address` };
  if (!isAllowedHost(bare, port, policy.trustedHosts) && addresses.some(policy.isRefusedAddress)) {
    return { ok: false, status: 403, reason: `${bare} resolves to a loopback or private address` };
  }
  return { ok: true, address };
}

/** Sends the sandbox's request on (`host` as the sandbox named it) and streams the answer back. */
function relay(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  send: (
    headers: http.OutgoingHttpHeaders,
    onReply: (reply: http.IncomingMessage) => void,
  ) => http.ClientRequest,
  host: string,
  failure: string,
): void {
  const headers = forwardHeaders(req.headers);
  headers.host = host;
  const upstream = send(headers, (reply) => {
    res.writeHead(reply.statusCode ?? 502, forwardHeaders(reply.headers));
    reply.pipe(res);
    reply.once("error", () => res.destroy());
  });
  upstream.once("error", (error) => refuse(res, 502, `${failure} (${errnoOf(error) ?? "error"})`));
  res.once("close", () => upstream.destroy());
  req.pipe(upstream);
}

/** `url`: the platform's base URL (it may carry a path prefix) followed by the sandbox's path and query. */
function toPlatform(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  const client = url.protocol === "https:" ? https : http;
  relay(
    req,
    res,
    (headers, onReply) => client.request(url, { method: req.method, headers }, onReply),
    url.host,
    "platform unreachable",
  );
}

async function forwardAbsolute(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: URL,
  policy: EgressPolicy,
): Promise<void> {
  if (target.protocol !== "http:") return refuse(res, 400, "only http:// in absolute form; use CONNECT");
  const port = Number(target.port || 80);
  const checked = await checkedAddress(target.hostname, port, policy);
  if (!checked.ok) return refuse(res, checked.status, checked.reason);
  // To the address that was checked, not the name again: a second lookup could answer differently.
  const path = `${target.pathname}${target.search}`;
  relay(
    req,
    res,
    (headers, onReply) =>
      http.request({ host: checked.address, port, path, method: req.method, headers }, onReply),
    target.host,
    "upstream failed",
  );
}

async function tunnel(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  policy: EgressPolicy,
): Promise<void> {
  const deny = (status: number, reason: string) => {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\n\r\n${reason}\n`);
  };
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? "");
  if (!match?.[1] || !match[2]) return deny(400, "CONNECT needs host:port");
  const port = Number(match[2]);
  const checked = await checkedAddress(match[1], port, policy);
  if (!checked.ok) return deny(checked.status, checked.reason);
  const upstream = net.connect({ host: checked.address, port });
  upstream.once("connect", () => {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.once("error", (error) => deny(502, `upstream failed (${errnoOf(error) ?? "error"})`));
  socket.once("error", () => upstream.destroy());
  socket.once("close", () => upstream.destroy());
}

/** An HTTP proxy server implementing the policy above; the caller listens on the sandbox's Unix socket. */
export function createEgressProxy(policy: EgressPolicy, door: EgressDoor): http.Server {
  const server = http.createServer((req, res) => {
    const raw = req.url ?? "";
    if (raw.startsWith("/")) {
      const pathname = raw.split("?")[0] ?? raw;
      if (!isDoorPath(pathname, door)) {
        return refuse(res, 403, "sandboxes reach only the model gateway and their own webhook");
      }
      if (!door.target) return refuse(res, 503, "this sandbox's door to the platform is not open");
      return toPlatform(req, res, new URL(`${door.target}${raw}`));
    }
    let target: URL;
    try {
      target = new URL(raw);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return refuse(res, 400, "not a proxy request");
    }
    forwardAbsolute(req, res, target, policy).catch(() => refuse(res, 502, "proxy error"));
  });
  server.on("connect", (req, socket, head) => {
    tunnel(req, socket, head, policy).catch(() => socket.destroy());
  });
  // A sandbox's requests are short API calls and package downloads; a stuck one must not pin sockets forever.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  return server;
}

export const defaultRefusedAddress = isNonPublicAddress;
