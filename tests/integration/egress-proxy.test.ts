import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEgressProxy, defaultRefusedAddress } from "@/server/integrations/sandboxes/local-egress-proxy";

// The sandboxes' egress proxy as a sandbox's package manager uses it (absolute-form requests): the platform's own
// registry is reached wherever it resolves (a self-hosted mirror on a private network, or — on this machine — a
// reserved documentation address), while any other allowed name that resolves to such an address is refused.

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("egress proxy: the platform's registry and other allowed hosts", () => {
  const upstream = http.createServer((req, res) => res.end(`registry answered ${req.url}`));
  let proxy: http.Server;
  let upstreamPort = 0;
  let proxyPort = 0;

  beforeAll(async () => {
    upstreamPort = await listen(upstream);
    proxy = createEgressProxy(
      {
        allowedHosts: [`mirror.kiln.test:${upstreamPort}`, `elsewhere.kiln.test:${upstreamPort}`],
        trustedHosts: [`mirror.kiln.test:${upstreamPort}`],
        // Both names lead to the host's loopback, where the stand-in registry listens.
        resolve: async () => ["127.0.0.1"],
        isRefusedAddress: defaultRefusedAddress,
      },
      { target: undefined, webhookId: undefined },
    );
    proxyPort = await listen(proxy);
  });

  afterAll(() => {
    proxy?.close();
    upstream.close();
  });

  function viaProxy(host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port: proxyPort,
            path: `http://${host}:${upstreamPort}/kysely`,
            headers: { host },
          },
          (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => {
              body += chunk.toString();
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on("error", reject);
    });
  }

  it("reaches the platform's registry at whatever address it resolves to", async () => {
    expect(await viaProxy("mirror.kiln.test")).toEqual({ status: 200, body: "registry answered /kysely" });
  });

  it("refuses another allowed name that resolves to a loopback or private address", async () => {
    const answer = await viaProxy("elsewhere.kiln.test");
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("loopback or private");
  });
});
