import { createServer } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createTiDBCloudDatabaseBranches,
  type TiDBCloudDatabaseBranchesOptions,
} from "../../../src/server/integrations/database-branches/tidbcloud";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { rateLimitWaitMs } from "../../../src/server/integrations/tidbcloud/client";
import { describeDatabaseBranchesContract } from "../../contracts/database-branches";
import { type FakeInterceptor, json } from "../../fakes/http";
import { type FakeTiDBCloudServer, startFakeTiDBCloud } from "../../fakes/tidbcloud";
import { rejectionOf } from "../../helpers/errors";

const sentBody = z.object({ rootPassword: z.string().optional() });
const publicKey = "TIDBPUB0KILN";
const privateKey = "9f8e7d6c-PLANTED-private-key-5b4a";

const servers: FakeTiDBCloudServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function start(
  extra: Partial<Parameters<typeof startFakeTiDBCloud>[0]> = {},
): Promise<FakeTiDBCloudServer> {
  const server = await startFakeTiDBCloud({
    publicKey,
    privateKey,
    algorithms: ["SHA-256", "MD5"],
    clusters: [],
    readyAfterPolls: 2,
    ...extra,
  });
  servers.push(server);
  return server;
}

type Harness = {
  server: FakeTiDBCloudServer;
  sleeps: number[];
  adapter: ReturnType<typeof createTiDBCloudDatabaseBranches>;
};

async function harness(
  options: Partial<TiDBCloudDatabaseBranchesOptions> = {},
  fake: Partial<Parameters<typeof startFakeTiDBCloud>[0]> = {},
): Promise<Harness> {
  const server = await start(fake);
  const sleeps: number[] = [];
  const adapter = createTiDBCloudDatabaseBranches({
    publicKey,
    privateKey,
    projectId: "1372813089454000000",
    region: "aws-us-east-1",
    apiUrl: server.url,
    pollIntervalMs: 2000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { server, sleeps, adapter };
}

describeDatabaseBranchesContract(
  "tidbcloud (wire-level fake)",
  async () => {
    const { adapter } = await harness();
    return { adapter, realSql: false };
  },
  { realSql: false },
);

/** A port nothing listens on (fetch refuses some well-known ones, such as 9, before connecting). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

function expectNoSecrets(error: unknown, secrets: string[]): void {
  const text = `${String(error)} ${error instanceof Error ? (error.stack ?? "") : ""}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe("tidbcloud adapter on the wire", () => {
  let intercept: FakeInterceptor | undefined;
  afterEach(() => {
    intercept = undefined;
  });
  const withIntercept = () => ({
    intercept: (request: Parameters<FakeInterceptor>[0]) => intercept?.(request),
  });

  it("creates a cluster with the documented body, polls it to ACTIVE every interval, and hands out a TLS URL", async () => {
    const { server, sleeps, adapter } = await harness();
    const { root, main, connection } = await adapter.createRoot({ name: "shop" });
    expect(server.createdClusterBodies).toHaveLength(1);
    const body = server.createdClusterBodies[0] ?? {};
    expect(Object.keys(body).sort()).toEqual(["displayName", "labels", "region", "rootPassword"]);
    expect(body).toMatchObject({
      displayName: "shop",
      region: { name: "regions/aws-us-east-1" },
      labels: { "tidb.cloud/project": "1372813089454000000" },
    });
    const password = String(body.rootPassword);
    expect(password).toMatch(/^[A-Za-z0-9]{24,64}$/);
    expect(sleeps).toEqual([2000, 2000, 2000]);
    const cluster = server.cluster(root.id);
    expect(root).toEqual({ kind: "tidbcloud", id: cluster?.clusterId, name: "shop" });
    expect(main).toEqual({ id: root.id, name: "main", parentId: null, state: "active" });
    const url = new URL(connection.databaseUrl);
    expect(url.protocol).toBe("mysql:");
    expect(url.username).toBe(`${String(cluster?.userPrefix)}.root`);
    expect(url.password).toBe(password);
    expect(url.host).toBe("gateway01.us-east-1.prod.aws.tidbcloud.com:4000");
    expect(url.pathname).toBe("/test");
    expect(JSON.parse(url.searchParams.get("ssl") ?? "")).toEqual({ rejectUnauthorized: true });
    expect(server.passwordOf(root.id)).toBe(password);
  });

  it("reuses a cluster of the same name and replaces its password instead of creating another", async () => {
    const { server, adapter } = await harness();
    const first = await adapter.createRoot({ name: "again" });
    const second = await adapter.createRoot({ name: "again" });
    expect(second.root.id).toBe(first.root.id);
    expect(server.createdClusterBodies).toHaveLength(1);
    const password = new URL(second.connection.databaseUrl).password;
    expect(password).not.toBe(new URL(first.connection.databaseUrl).password);
    expect(server.passwordOf(first.root.id)).toBe(password);
    expect(
      server.requests.some(
        (request) => request.method === "PUT" && request.path === `/clusters/${first.root.id}/password`,
      ),
    ).toBe(true);
  });

  it("creates branches with parentId and an RFC 3339 parentTimestamp, and uses the branch's own endpoint user", async () => {
    const { server, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "pitr" });
    const a = await adapter.createBranch(root, { name: "a" });
    const at = new Date(Date.now() - 3_600_000);
    const b = await adapter.createBranch(root, { name: "b", parentId: a.branch.id, atTime: at });
    expect(server.createdBranchBodies).toHaveLength(2);
    expect(Object.keys(server.createdBranchBodies[0] ?? {}).sort()).toEqual(["displayName", "rootPassword"]);
    expect(server.createdBranchBodies[1]).toMatchObject({
      displayName: "b",
      parentId: a.branch.id,
      parentTimestamp: at.toISOString(),
    });
    expect(server.branch(root.id, b.branch.id)).toMatchObject({
      parentTimestamp: at.toISOString(),
      state: "ACTIVE",
    });
    expect(b.branch).toEqual({ id: b.branch.id, name: "b", parentId: a.branch.id, state: "active" });
    expect(b.branch.id).toMatch(/^bran-/);
    const stored = server.branch(root.id, b.branch.id);
    expect(new URL(b.connection.databaseUrl).username).toBe(`${String(stored?.userPrefix)}.root`);
    expect(new URL(b.connection.databaseUrl).password).toBe(server.passwordOf(root.id, b.branch.id));
  });

  it("connect replaces a branch's password through the sqlUsers API", async () => {
    const { server, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "rotate" });
    const { branch, connection } = await adapter.createBranch(root, { name: "r" });
    const fresh = await adapter.connect(root, branch.id);
    const password = new URL(fresh.databaseUrl).password;
    expect(password).not.toBe(new URL(connection.databaseUrl).password);
    expect(server.passwordOf(root.id, branch.id)).toBe(password);
    const userPrefix = String(server.branch(root.id, branch.id)?.userPrefix);
    const patch = server.requests.find((request) => request.method === "PATCH");
    expect(patch?.path).toBe(`/clusters/${root.id}/branches/${branch.id}/sqlUsers/${userPrefix}.root`);
    expect(JSON.parse(patch?.body ?? "{}")).toEqual({ password });
  });

  it("resets through :reset and waits out RESTORING", async () => {
    const { server, sleeps, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "undo" });
    const { branch } = await adapter.createBranch(root, { name: "u" });
    sleeps.length = 0;
    await adapter.resetBranch(root, branch.id);
    expect(
      server.requests.some(
        (request) =>
          request.method === "POST" && request.path === `/clusters/${root.id}/branches/${branch.id}:reset`,
      ),
    ).toBe(true);
    expect(sleeps).toEqual([2000, 2000, 2000]);
    expect(server.branch(root.id, branch.id)?.state).toBe("ACTIVE");
    expect(await rejectionOf(adapter.resetBranch(root, "bran-missing"))).toMatchObject({ kind: "not_found" });
  });

  it("lists every page of branches and leaves DELETED ones out", async () => {
    const { server, adapter } = await harness({}, { readyAfterPolls: 0 });
    const { root, main } = await adapter.createRoot({ name: "paged" });
    const made: string[] = [];
    for (let i = 0; i < 103; i++) made.push((await adapter.createBranch(root, { name: `b${i}` })).branch.id);
    await adapter.deleteBranch(root, made[5] ?? "");
    server.requests.length = 0;
    const listed = await adapter.listBranches(root);
    expect(listed[0]).toEqual(main);
    expect(listed.map((branch) => branch.id).sort()).toEqual(
      [main.id, ...made.filter((_, i) => i !== 5)].sort(),
    );
    const pages = server.requests.filter((request) =>
      request.path.startsWith(`/clusters/${root.id}/branches?`),
    );
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages[1]?.path).toMatch(/pageToken=/);
  });

  it("gives up waiting after pollTimeoutMs with a timeout that says the state", async () => {
    const { sleeps, adapter } = await harness(
      { pollIntervalMs: 2000, pollTimeoutMs: 10_000 },
      { readyAfterPolls: 1000 },
    );
    const error = await rejectionOf(adapter.createRoot({ name: "slow" }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "timeout", retryable: true });
    expect(String(error)).toMatch(/still CREATING after 10 s/);
    expect(sleeps).toEqual([2000, 2000, 2000, 2000, 2000]);
  });

  it("treats states it does not know as not ready", async () => {
    let reads = 0;
    const { adapter } = await harness(
      {},
      {
        routes: [
          {
            method: "GET",
            path: "/clusters/:clusterId",
            handle: ({ params }) => {
              reads += 1;
              return json(200, {
                clusterId: params.clusterId,
                displayName: "odd",
                state: reads < 3 ? "MAINTENANCE" : "ACTIVE",
                userPrefix: "Pfx",
                endpoints: { public: { host: "h.example", port: "4000" } },
              });
            },
          },
        ],
      },
    );
    const { main } = await adapter.createRoot({ name: "odd" });
    expect(main.state).toBe("active");
    expect(reads).toBe(3);
  });

  it("waits out a 429 for X-Ratelimit-Reset seconds, then succeeds", async () => {
    const { server, sleeps, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "limited" });
    sleeps.length = 0;
    server.rateLimitNext(1, 7);
    expect(await adapter.listBranches(root)).toHaveLength(1);
    expect(sleeps).toEqual([7000]);
  });

  it("fails as rate_limited with retryAfterMs when the wait would be too long", async () => {
    const { server, sleeps, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "toolong" });
    sleeps.length = 0;
    server.rateLimitNext(5, 600);
    const error = await rejectionOf(adapter.listBranches(root));
    expect(error).toMatchObject({
      vendor: "tidbcloud",
      kind: "rate_limited",
      status: 429,
      retryable: true,
      retryAfterMs: 600_000,
    });
    expect(String(error)).toMatch(/100 times per apikey per minute/);
    expect(String(error)).toMatch(/100 requests per minute per API key/);
    expect(sleeps).toEqual([]);
  });

  it("stops after two rate-limit waits within one call", async () => {
    const { server, sleeps, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "bounded" });
    sleeps.length = 0;
    server.rateLimitNext(10, 3);
    expect(await rejectionOf(adapter.getBranch(root, root.id))).toMatchObject({ kind: "rate_limited" });
    expect(sleeps).toEqual([3000, 3000]);
  });

  it("reads X-Ratelimit-Reset as relative seconds, tolerating epoch seconds and junk", () => {
    expect(rateLimitWaitMs("23")).toBe(23_000);
    expect(rateLimitWaitMs("0")).toBe(1000);
    expect(rateLimitWaitMs(String(1_900_000_030), 1_900_000_000_000)).toBe(30_000);
    expect(rateLimitWaitMs(null)).toBe(60_000);
    expect(rateLimitWaitMs("soon")).toBe(60_000);
  });

  it("reports a wrong private key as auth after the digest exchange, without any key in the message", async () => {
    const server = await start();
    const adapter = createTiDBCloudDatabaseBranches({
      publicKey,
      privateKey: "wrong-PLANTED-key-1234",
      region: "aws-us-east-1",
      apiUrl: server.url,
      sleep: () => Promise.resolve(),
    });
    const error = await rejectionOf(adapter.createRoot({ name: "nokey" }));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "auth", status: 401, retryable: false });
    expect(String(error)).toMatch(/Check the TiDB Cloud API key/);
    expectNoSecrets(error, ["wrong-PLANTED-key-1234", privateKey]);
    expect(server.rejections).toContain("wrong response hash");
  });

  const statusCases: Array<{ status: number; kind: ProviderError["kind"]; advice: RegExp }> = [
    { status: 403, kind: "forbidden", advice: /may not do this/ },
    { status: 404, kind: "not_found", advice: /no longer exists/ },
    { status: 409, kind: "conflict", advice: /already exists or is busy/ },
    { status: 400, kind: "invalid", advice: /refused the request as invalid/ },
    { status: 422, kind: "invalid", advice: /refused the request as invalid/ },
    { status: 503, kind: "unavailable", advice: /unavailable right now/ },
  ];
  for (const { status, kind, advice } of statusCases) {
    it(`maps HTTP ${status} on branch creation to ${kind}, with the vendor's message scrubbed of secrets`, async () => {
      const { server, adapter } = await harness({}, withIntercept());
      const { root } = await adapter.createRoot({ name: `s${status}` });
      intercept = (request) => {
        if (request.method !== "POST" || !request.path.endsWith("/branches")) return undefined;
        const sent = sentBody.parse(JSON.parse(request.body || "{}"));
        return json(status, {
          code: 7,
          // A vendor echoing what it was sent must not leak it.
          message: `quota says no to ${sent.rootPassword} for ${privateKey}`,
          details: [],
        });
      };
      const error = await rejectionOf(adapter.createBranch(root, { name: "x" }));
      expect(error).toMatchObject({ vendor: "tidbcloud", kind, status });
      expect(String(error)).toMatch(advice);
      expect(String(error)).toMatch(
        new RegExp(`quota says no to \\[redacted\\] for \\[redacted\\] \\(HTTP ${status}, code 7\\)`),
      );
      const posted = server.requests.filter(
        (request) => request.method === "POST" && request.path.endsWith("/branches"),
      );
      // POST is not retried, even on 5xx: it may have happened.
      expect(posted).toHaveLength(1);
      const sent = sentBody.parse(JSON.parse(posted[0]?.body ?? "{}"));
      expectNoSecrets(error, [privateKey, String(sent.rootPassword)]);
    });
  }

  it("retries an idempotent read on 5xx, then succeeds", async () => {
    const { sleeps, adapter } = await harness({}, withIntercept());
    const { root } = await adapter.createRoot({ name: "flaky" });
    sleeps.length = 0;
    let failures = 2;
    intercept = (request) => {
      if (request.method === "GET" && failures > 0) {
        failures -= 1;
        return json(502, { code: 14, message: "upstream connect error", details: [] });
      }
      return undefined;
    };
    expect(await adapter.getBranch(root, root.id)).toMatchObject({ state: "active" });
    expect(sleeps).toEqual([500, 1500]);
  });

  it("reports a request that never answers as timeout", async () => {
    const { adapter } = await harness({ requestTimeoutMs: 200 }, withIntercept());
    intercept = () => ({ hang: true });
    const error = await rejectionOf(adapter.createRoot({ name: "hang" }));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "timeout", retryable: true });
    expect(String(error)).toMatch(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
  });

  it("reports an unreachable API as unavailable", async () => {
    const port = await closedPort();
    const sleeps: number[] = [];
    const adapter = createTiDBCloudDatabaseBranches({
      publicKey,
      privateKey,
      region: "aws-us-east-1",
      apiUrl: `http://127.0.0.1:${port}/v1beta1`,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const error = await rejectionOf(adapter.createRoot({ name: "down" }));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "unavailable", retryable: true });
    expect(String(error)).toContain(`could not reach 127.0.0.1:${port} (ECONNREFUSED)`);
    // The first call is an idempotent list, so it was retried with backoff before giving up.
    expect(sleeps).toEqual([500, 1500]);
    expectNoSecrets(error, [privateKey]);
  });

  it("reports an answer of the wrong shape as internal", async () => {
    const { adapter } = await harness({}, withIntercept());
    intercept = (request) =>
      request.method === "POST" && request.path === "/clusters" ? json(200, { clusterId: 42 }) : undefined;
    const error = await rejectionOf(adapter.createRoot({ name: "shape" }));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "internal" });
    expect(String(error)).toMatch(/unexpected shape \(clusterId:/);
  });

  it("deletes idempotently: a 404 on DELETE is success", async () => {
    const { server, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "gone" });
    const { branch } = await adapter.createBranch(root, { name: "g" });
    await adapter.deleteBranch(root, branch.id);
    await adapter.deleteBranch(root, branch.id);
    await adapter.deleteBranch(root, "bran-neverexisted");
    await adapter.deleteRoot(root);
    await adapter.deleteRoot(root);
    const deletes = server.requests.filter((request) => request.method === "DELETE");
    expect(deletes.map((request) => request.path)).toEqual([
      `/clusters/${root.id}/branches/${branch.id}`,
      `/clusters/${root.id}/branches/${branch.id}`,
      `/clusters/${root.id}/branches/bran-neverexisted`,
      `/clusters/${root.id}`,
      `/clusters/${root.id}`,
    ]);
  });

  it("refuses ids that would change the request path", async () => {
    const { server, adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "paths" });
    const before = server.requests.length;
    for (const id of ["../clusters", "a/b", "x?y=1", "a:reset"]) {
      expect(await rejectionOf(adapter.getBranch(root, id))).toMatchObject({ kind: "invalid" });
      expect(await rejectionOf(adapter.deleteBranch(root, id))).toMatchObject({ kind: "invalid" });
    }
    expect(server.requests.length).toBe(before);
  });
});

describe("tidbcloud inspectBranch: the app's own connection to the branch's endpoint", () => {
  /** The branch's connection as issued (user, password, database, TLS), aimed at `host:port` on this machine. */
  async function issuedConnectionAt(host: string, port: number) {
    const { adapter } = await harness();
    const { root } = await adapter.createRoot({ name: "looked-at" });
    const { connection } = await adapter.createBranch(root, { name: "r1" });
    const url = new URL(connection.databaseUrl);
    const password = url.password;
    url.hostname = host;
    url.port = String(port);
    return { adapter, connection: { ...connection, databaseUrl: url.href }, password };
  }

  it("reports a server that never answers as timeout within the bound, without any secret", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("no TCP port");
    try {
      const { adapter, connection, password } = await issuedConnectionAt("127.0.0.1", address.port);
      const started = Date.now();
      const error = await rejectionOf(adapter.inspectBranch(connection, { timeoutMs: 300 }));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ vendor: "tidbcloud", kind: "timeout" });
      expectNoSecrets(error, [password, privateKey]);
    } finally {
      silent.close();
    }
  });

  it("reports a refused connection as unavailable, without any secret", async () => {
    const { adapter, connection, password } = await issuedConnectionAt("127.0.0.1", await closedPort());
    const error = await rejectionOf(adapter.inspectBranch(connection));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "unavailable" });
    expectNoSecrets(error, [password, privateKey]);
  });

  const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;
  it.skipIf(!mysqlUrl)("insists on TLS, as TiDB Cloud does: a server without it is refused", async () => {
    const server = new URL(mysqlUrl ?? "mysql://127.0.0.1");
    const { adapter, connection, password } = await issuedConnectionAt(
      server.hostname,
      Number(server.port || 3306),
    );
    const error = await rejectionOf(adapter.inspectBranch(connection));
    expect(error).toMatchObject({ vendor: "tidbcloud", kind: "unavailable" });
    expect(String(error)).toMatch(/secure connection/i);
    expectNoSecrets(error, [password, privateKey]);
  });
});
