import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  answerPing,
  checkPublicUrl,
  localUrl,
  newInstanceId,
  pingPath,
} from "../../scripts/lib/public-url-check";

// Kiln's front (scripts/lib/next-server.ts) checks on boot that KILN_PUBLIC_URL reaches it, answering the ping
// itself. Here a front of the same make (the ping first, then "the app") on the loopback, and the check as the
// front runs it once it listens.

const servers: http.Server[] = [];

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** What the front does with a request that is not a preview's: the ping, else Next.js (here: a page). */
function front(instanceId: string): http.RequestListener {
  return (req, res) => {
    if (answerPing(req, res, instanceId)) return;
    res.end("<html>Kiln</html>");
  };
}

async function closedPort(): Promise<number> {
  const port = await listen(() => undefined);
  await new Promise((resolve) => servers.pop()?.close(resolve));
  return port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe("the boot check of KILN_PUBLIC_URL", () => {
  it("warns, naming both ports and the fix, when KILN_PUBLIC_URL names a port where nothing listens", async () => {
    const instanceId = newInstanceId();
    const port = await listen(front(instanceId));
    const stalePort = await closedPort();
    const publicUrl = `http://localhost:${stalePort}`;

    const warning = await checkPublicUrl({ publicUrl, listening: { hostname: undefined, port }, instanceId });

    expect(warning).toContain(
      `KILN_PUBLIC_URL is ${publicUrl}, but nothing answers there (connect ECONNREFUSED`,
    );
    expect(warning).toContain(`Kiln listens on port ${port}, while KILN_PUBLIC_URL names port ${stalePort}.`);
    expect(warning).toMatch(/Sandboxes reach Kiln's model gateway and webhook at KILN_PUBLIC_URL/);
    expect(warning).toContain(`KILN_PUBLIC_URL=http://localhost:${port}\n`);
  });

  it("warns when another server answers there, even another Kiln", async () => {
    const instanceId = newInstanceId();
    const port = await listen(front(instanceId));
    const otherKiln = await listen(front(newInstanceId()));
    const somethingElse = await listen((_req, res) => res.writeHead(404).end());

    for (const [other, status] of [
      [otherKiln, 204],
      [somethingElse, 404],
    ] as const) {
      const warning = await checkPublicUrl({
        publicUrl: `http://127.0.0.1:${other}`,
        listening: { hostname: "127.0.0.1", port },
        instanceId,
      });
      expect(warning).toContain(`something other than this Kiln answers there (HTTP ${status})`);
      expect(warning).toContain(`KILN_PUBLIC_URL=http://127.0.0.1:${port}\n`);
    }
  });

  it("is quiet when KILN_PUBLIC_URL reaches this server, directly or through a proxy on another port", async () => {
    const instanceId = newInstanceId();
    const port = await listen(front(instanceId));
    const proxy = await listen((req, res) => {
      const upstream = http.request(
        { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    const listening = { hostname: undefined, port };

    expect(
      await checkPublicUrl({ publicUrl: `http://localhost:${port}`, listening, instanceId }),
    ).toBeUndefined();
    expect(
      await checkPublicUrl({ publicUrl: `http://127.0.0.1:${proxy}`, listening, instanceId }),
    ).toBeUndefined();
    // The ping is the front's own answer, never the app's page.
    const ping = await fetch(`http://127.0.0.1:${port}${pingPath}`);
    expect([ping.status, ping.headers.get("x-kiln-instance")]).toEqual([204, instanceId]);
  });

  it("takes the address it listens on as the default KILN_PUBLIC_URL", () => {
    expect(localUrl({ hostname: undefined, port: 43319 })).toBe("http://localhost:43319");
    expect(localUrl({ hostname: "0.0.0.0", port: 43319 })).toBe("http://localhost:43319");
    expect(localUrl({ hostname: "127.0.0.1", port: 3100 })).toBe("http://127.0.0.1:3100");
    expect(localUrl({ hostname: "::1", port: 3100 })).toBe("http://[::1]:3100");
  });
});
