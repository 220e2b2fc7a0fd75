import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import nextEnv from "@next/env";
import { parseEnv } from "../../src/server/config/env-schema";
import {
  CLIENT_ADDRESS_HEADER,
  markClientAddressStamped,
  resolveClientAddress,
  trustedProxies,
} from "../../src/server/http/client-address";
import { frontPreviewCallers, frontPreviewProxy } from "../../src/server/platform/front-preview-proxy";
import { answerPing, checkPublicUrl, localUrl, newInstanceId } from "./public-url-check";

// Kiln's HTTP front: Next.js behind a plain Node server of ours, because only the server that accepted the TCP
// connection knows the client's address, and Next.js hands route handlers and server actions nothing but headers
// (it fills X-Forwarded-For from the socket only when the client did not send one). This front resolves the
// client from the socket and KILN_TRUSTED_PROXIES and writes it into one header, replacing any a client sent.
// Usage (from run-next.ts): next-server.ts dev|start [-p PORT] [-H HOST]

/** The `next dev|start` options Kiln's scripts pass: `-p/--port` and `-H/--hostname` (each `X v` or `--x=v`). */
function parseServerArgs(argv: string[]): { mode: "dev" | "start"; port?: string; hostname?: string } {
  const [mode, ...rest] = argv;
  if (mode !== "dev" && mode !== "start")
    throw new Error(`next-server: expected dev or start, got "${mode}"`);
  const options: { port?: string; hostname?: string } = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? "";
    const [name = "", inline] = arg.split("=", 2);
    const value = inline ?? rest[++i];
    if (value === undefined) throw new Error(`next-server: ${name} needs a value`);
    if (name === "-p" || name === "--port") options.port = value;
    else if (name === "-H" || name === "--hostname") options.hostname = value;
    else throw new Error(`next-server: unsupported option ${name}`);
  }
  return { mode, ...options };
}

async function main() {
  const { mode, ...options } = parseServerArgs(process.argv.slice(2));
  const port = Number(options.port ?? process.env.PORT ?? 3000);
  const hostname = options.hostname;
  const dev = mode === "dev";
  // The CLI sets NODE_ENV before it loads Next.js (React picks its build by it at require time): so must we.
  Object.assign(process.env, { NODE_ENV: dev ? "development" : "production" });
  // `.env*` first (as Next.js would), so that a KILN_PUBLIC_URL set there counts as set.
  nextEnv.loadEnvConfig(process.cwd(), dev, { info: () => undefined, error: console.error });
  if (!process.env.KILN_PUBLIC_URL?.trim() && port > 0) {
    // Unset: where this server listens (`npm run dev -- -p N` and PORT=N just work), for the whole process,
    // Next.js included; also after Next.js reloads a changed .env file (it restores its initial environment).
    const publicUrl = localUrl({ hostname, port });
    process.env.KILN_PUBLIC_URL = publicUrl;
    nextEnv.updateInitialEnv({ KILN_PUBLIC_URL: publicUrl });
  }
  const { default: next } = await import("next");

  const env = parseEnv(process.env);
  const proxies = trustedProxies(env.KILN_TRUSTED_PROXIES);
  // Requests for `<label>.<KILN_PREVIEW_DOMAIN>` are a checkpoint's preview or deployment, never Kiln's pages.
  const previews = frontPreviewProxy(env);
  // A page of a preview calling Kiln (its API, its pages, `next dev`'s reload socket) is refused outright.
  const fromPreview = frontPreviewCallers(env);
  const server = http.createServer();
  // Next.js listens for WebSocket upgrades (its dev reload) on the server it is given: a server that never
  // listens, to which only upgrades meant for Kiln are handed, so a preview's own reload socket reaches the preview.
  const nextUpgrades = http.createServer();
  const app = next({
    dev,
    dir: process.cwd(),
    hostname: hostname ?? "localhost",
    port,
    httpServer: nextUpgrades,
  });
  const handle = app.getRequestHandler();
  await app.prepare();
  markClientAddressStamped();
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (previews.owns(req)) previews.upgrade(req, socket, head);
    else if (fromPreview(req))
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else nextUpgrades.emit("upgrade", req, socket, head);
  });
  const instanceId = newInstanceId();
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (previews.owns(req)) {
      previews.request(req, res);
      return;
    }
    if (fromPreview(req)) {
      res
        .writeHead(403, { "content-type": "text/plain; charset=utf-8" })
        .end("Kiln does not answer pages of previews.");
      return;
    }
    if (answerPing(req, res, instanceId)) return;
    const client = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], proxies);
    if (client) req.headers[CLIENT_ADDRESS_HEADER] = client;
    else delete req.headers[CLIENT_ADDRESS_HEADER];
    handle(req, res).catch((error: unknown) => {
      console.error("[kiln] request failed:", error instanceof Error ? error.message : String(error));
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, resolve);
  });
  console.log(`• Kiln is listening on http://${hostname ?? "localhost"}:${port} (${mode})`);
  const listening = { hostname, port: (server.address() as AddressInfo).port };
  checkPublicUrl({ publicUrl: env.KILN_PUBLIC_URL, listening, instanceId }).then(
    (warning) => {
      if (!warning) return console.log(`• KILN_PUBLIC_URL (${env.KILN_PUBLIC_URL}) reaches this server`);
      const rule = "!".repeat(100);
      console.warn(`\n${rule}\n${warning.replace(/^/gm, "!  ")}\n${rule}\n`);
    },
    (error: unknown) => console.error("[kiln] checking KILN_PUBLIC_URL failed:", error),
  );

  const stop = () => {
    server.close();
    app.close().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`\n✖ ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
