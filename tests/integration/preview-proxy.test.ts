import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@/server/ids";
import { previewOrigins, publicPreviewUrl } from "@/server/previews/preview-origin";
import { createPreviewProxy } from "@/server/previews/preview-proxy";

// The preview proxy in front of a real upstream (standing in for a sandbox's dev server): it relays a checkpoint's
// host to where the database says it listens, WebSocket upgrades included, and nothing else.

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("preview proxy", () => {
  const origins = previewOrigins("http://127.0.0.1:3000", "localhost", randomBytes(32));
  const revisionId = newId("revision");
  const seen: http.IncomingHttpHeaders[] = [];
  const upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-type": "text/plain", "set-cookie": "app=1; Path=/" });
    res.end(`app says ${req.method} ${req.url}`);
  });
  upstream.on("upgrade", (req, socket) => {
    socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n");
    socket.on("data", (data: Buffer) => socket.write(`echo:${data.toString()}`));
    seen.push(req.headers);
  });
  let upstreamPort = 0;
  let front: http.Server;
  let frontPort = 0;
  let previewHost = "";

  beforeAll(async () => {
    upstreamPort = await listen(upstream);
    const proxy = createPreviewProxy({
      origins,
      resolveUpstream: async (target) =>
        target.kind === "preview" && target.revisionId === revisionId
          ? `http://127.0.0.1:${upstreamPort}`
          : null,
    });
    front = http.createServer((req, res) => {
      if (proxy.owns(req)) proxy.request(req, res);
      else res.end("kiln's own page");
    });
    front.on("upgrade", (req, socket, head) => proxy.upgrade(req, socket, head));
    frontPort = await listen(front);
    const url = publicPreviewUrl(
      origins,
      { kind: "preview", revisionId },
      `http://127.0.0.1:${upstreamPort}`,
    );
    previewHost = new URL(url ?? "").host;
  });

  afterAll(async () => {
    front?.close();
    upstream.close();
  });

  function get(host: string, path = "/"): Promise<{ status: number; body: string; cookie: string[] }> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: frontPort, path, headers: { host, cookie: "app=1" } }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body, cookie: res.headers["set-cookie"] ?? [] }),
          );
        })
        .on("error", reject);
    });
  }

  it("serves the checkpoint's app on its host, with the app's own cookies, and Kiln's pages elsewhere", async () => {
    const answer = await get(previewHost, "/todos?x=1");
    expect(answer).toMatchObject({ status: 200, body: "app says GET /todos?x=1", cookie: ["app=1; Path=/"] });
    expect(seen.at(-1)).toMatchObject({
      host: `127.0.0.1:${upstreamPort}`,
      "x-forwarded-host": previewHost,
      cookie: "app=1",
    });
    expect((await get("127.0.0.1:3000")).body).toBe("kiln's own page");
  });

  it("answers 404 for a checkpoint with no running preview, without reaching any upstream", async () => {
    const deployHost = new URL(
      publicPreviewUrl(origins, { kind: "deploy", revisionId }, "http://127.0.0.1:1") ?? "",
    ).host;
    const before = seen.length;
    expect((await get(deployHost)).status).toBe(404);
    expect(seen.length).toBe(before);
  });

  it("relays a WebSocket upgrade (the dev server's reload socket) both ways", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: frontPort,
        path: "/_next/webpack-hmr",
        headers: { host: previewHost, connection: "Upgrade", upgrade: "websocket" },
      });
      req.on("upgrade", (res, socket) => {
        expect(res.statusCode).toBe(101);
        socket.once("data", (data: Buffer) => {
          resolve(data.toString());
          socket.destroy();
        });
        socket.write("ping");
      });
      req.on("error", reject);
      req.end();
    });
    expect(reply).toBe("echo:ping");
  });
});
