import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { isLoopbackUrl, type PreviewOrigins, type PreviewTarget, parsePreviewHost } from "./preview-origin";

/**
 * Serves local previews and deployments on their own origins (see preview-origin.ts): a request whose Host names a
 * checkpoint (or a project's published app) is relayed to the loopback address its sandbox listens on; WebSocket upgrades too (`next dev`'s hot
 * reload). Nothing of Kiln's is served on those hosts, and nothing of the request is trusted to pick the upstream:
 * the Host only names a checkpoint, the database says where it listens, and only loopback addresses are relayed.
 */

export type PreviewProxyDeps = {
  origins: PreviewOrigins;
  /**
   * The checkpoint's upstream (e.g. http://127.0.0.1:41234), or null when it has none; for a project's app host, the
   * published checkpoint's deployment, or null when the project is not published.
   */
  resolveUpstream(target: PreviewTarget): Promise<string | null>;
  /** Whether the project publishes a checkpoint at all: an app host without an upstream says which case it is. */
  isPublished?(projectId: string): Promise<boolean>;
};

// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's own, never relayed.
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function relayedHeaders(
  req: http.IncomingMessage,
  upstream: URL,
  keepUpgrade: boolean,
): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (
      value === undefined ||
      (hopByHop.has(name) && !(keepUpgrade && (name === "connection" || name === "upgrade")))
    )
      continue;
    headers[name] = value;
  }
  // The app sees the address it listens on (dev servers check it), and where the browser really was.
  headers.host = upstream.host;
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-proto"] = "http";
  return headers;
}

function unavailable(
  res: http.ServerResponse,
  status: number,
  message: string,
  hint = "Open the project in Kiln to wake or rebuild it.",
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>Preview unavailable</title>` +
      `<body style="font:15px system-ui;margin:3rem;color:#444"><h1 style="font-size:18px">${message}</h1>` +
      `<p>${hint}</p></body>`,
  );
}

async function upstreamOf(deps: PreviewProxyDeps, target: PreviewTarget): Promise<URL | null> {
  const upstream = await deps.resolveUpstream(target);
  if (!upstream || !isLoopbackUrl(upstream)) return null;
  return new URL(upstream);
}

export type PreviewProxy = {
  /** True when the request's Host names a preview (the caller must then not hand it to Kiln's app). */
  owns(req: http.IncomingMessage): boolean;
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
};

export function createPreviewProxy(deps: PreviewProxyDeps): PreviewProxy {
  const targetOf = (req: http.IncomingMessage) => parsePreviewHost(deps.origins, req.headers.host);

  async function relayRequest(req: http.IncomingMessage, res: http.ServerResponse, target: PreviewTarget) {
    const upstream = await upstreamOf(deps, target);
    if (!upstream && target.kind === "app") {
      // Whoever has the stable URL may be anyone: it says nothing of Kiln or of what was there before.
      if (await deps.isPublished?.(target.projectId)) {
        return unavailable(res, 503, "This app is not running right now.", "Try again in a few minutes.");
      }
      return unavailable(res, 404, "This app is not published.", "Ask its owner to publish it again.");
    }
    if (!upstream) return unavailable(res, 404, "This preview does not exist or is not running.");
    const outgoing = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url ?? "/",
        headers: relayedHeaders(req, upstream, false),
      },
      (answer) => {
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        answer.pipe(res);
      },
    );
    outgoing.on("error", () => unavailable(res, 502, "This preview is not answering (it may be asleep)."));
    res.on("close", () => outgoing.destroy());
    req.pipe(outgoing);
  }

  async function relayUpgrade(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: PreviewTarget,
  ) {
    const upstream = await upstreamOf(deps, target);
    if (!upstream) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    const connection = net.connect(Number(upstream.port || 80), upstream.hostname);
    connection.on("connect", () => {
      const headers = relayedHeaders(req, upstream, true);
      const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) {
        for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`);
      }
      connection.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) connection.write(head);
      connection.pipe(socket);
      socket.pipe(connection);
    });
    const close = () => {
      connection.destroy();
      socket.destroy();
    };
    connection.on("error", close);
    socket.on("error", close);
    connection.on("close", close);
    socket.on("close", close);
  }

  return {
    owns: (req) => targetOf(req) !== null,
    request(req, res) {
      const target = targetOf(req);
      if (!target) return unavailable(res, 404, "Not a preview address.");
      relayRequest(req, res, target).catch((error: unknown) => {
        console.error("[kiln] preview proxy:", error instanceof Error ? error.message : String(error));
        unavailable(res, 502, "This preview could not be reached.");
      });
    },
    upgrade(req, socket, head) {
      const target = targetOf(req);
      if (!target) {
        socket.destroy();
        return;
      }
      relayUpgrade(req, socket, head, target).catch((error: unknown) => {
        console.error("[kiln] preview proxy:", error instanceof Error ? error.message : String(error));
        socket.destroy();
      });
    },
  };
}
