import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderErrorKind } from "../../../src/server/integrations/provider-error";
import type { CreateSandboxInput, Sandboxes } from "../../../src/server/integrations/sandboxes/port";
import {
  createVercelSandboxes,
  type VercelSandboxesOptions,
} from "../../../src/server/integrations/sandboxes/vercel";
import { describeSandboxesContract, providerErrorOf } from "../../contracts/sandboxes";
import type { FakeInterceptor, FakeReply } from "../../fakes/http";
import { type FakeVercelSandbox, startFakeVercelSandbox } from "../../fakes/vercel-sandbox";

// Vercel Sandbox through the real @vercel/sandbox SDK, against a wire-level fake whose commands really run.

const token = "vcp_SandboxSecretToken_5f1e9c";
const teamId = "team_kiln";
const projectId = "prj_kiln";

/** A port free on this host right now: the fake's "VM" shares the host network, so declared ports must be free. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function adapter(fake: FakeVercelSandbox, options: Partial<VercelSandboxesOptions> = {}): Sandboxes {
  return createVercelSandboxes({ token, teamId, projectId, fetch: fake.fetch, ...options });
}

function input(overrides: Partial<CreateSandboxInput> = {}): CreateSandboxInput {
  return {
    name: `kiln-${Math.random().toString(36).slice(2, 10)}`,
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 120_000,
    ...overrides,
  };
}

describeSandboxesContract("vercel (fake)", async () => {
  const fake = await startFakeVercelSandbox({ token, teamId, projectId });
  return {
    sandboxes: adapter(fake),
    reach: (url) => fake.previewUrl(url),
    previewPort: await freePort(),
    close: () => fake.close(),
  };
});

describe("vercel sandboxes: wire", () => {
  let fake: FakeVercelSandbox;
  beforeAll(async () => {
    fake = await startFakeVercelSandbox({ token, teamId, projectId });
  });
  afterAll(() => fake?.close());

  it("creates a named, non-persistent sandbox with the token, team, project, ports, timeout and env", async () => {
    const sandboxes = adapter(fake, { defaultVcpus: 4 });
    const name = `kiln-wire-${Date.now()}`;
    const sandbox = await sandboxes.create(input({ name, ports: [3000], env: { RUN_TOKEN: "rt" } }));
    expect(sandbox.id).toBe(name);
    expect(sandbox.workdir).toBe("/vercel/sandbox");
    expect(sandbox.listenPort(3000)).toBe(3000);
    expect(sandbox.url(3000)).toMatch(/^https:\/\/sb-[0-9a-f]+\.vercel\.run$/);
    const create = fake.requests.find(
      (request) => request.method === "POST" && request.path.startsWith("/v3/"),
    );
    if (!create) throw new Error("no create request");
    expect(create.path).toBe(`/v3/sandboxes?teamId=${teamId}`);
    expect(create.headers.authorization).toBe(`Bearer ${token}`);
    expect(JSON.parse(create.body)).toMatchObject({
      projectId,
      name,
      ports: [3000],
      timeout: 120_000,
      resources: { vcpus: 4 },
      env: { RUN_TOKEN: "rt" },
      persistent: false,
    });
    await sandbox.stop();
    expect(fake.statusOf(name)).toBe("stopped");
  });

  it("uses the legacy v2 endpoint when a runtime is configured", async () => {
    const sandbox = await adapter(fake, { runtime: "node22" }).create(input());
    const create = fake.requests.findLast(
      (request) => request.method === "POST" && request.path.includes("/sandboxes?"),
    );
    expect(create?.path).toBe(`/v2/sandboxes?teamId=${teamId}`);
    expect(JSON.parse(create?.body ?? "{}")).toMatchObject({ runtime: "node22" });
    await sandbox.stop();
  });

  it("a source that cannot be unpacked fails as invalid and stops the sandbox", async () => {
    const before = fake.requests.length;
    const sandbox = await adapter(fake)
      .create(input({ source: { kind: "tarball", data: Buffer.alloc(0) } }))
      .catch((error: unknown) => error);
    // An empty buffer is not a tarball: the unpack fails and the sandbox is stopped rather than left running.
    expect(sandbox).toMatchObject({ kind: "invalid" });
    const paths = fake.requests
      .slice(before)
      .map((request) => `${request.method} ${request.path.split("?")[0]}`);
    expect(paths.filter((p) => p.endsWith("/fs/write"))).toHaveLength(1);
    expect(paths.at(-1)).toMatch(/\/stop$/);
  });

  it("refuses host paths, which a VM cannot mount", async () => {
    const error = await providerErrorOf(adapter(fake).create(input({ hostPaths: ["/tmp"] })));
    expect(error.kind).toBe("unsupported");
  });

  it("a sandbox that timed out on Vercel reads as stopped: not alive, commands conflict, stop() still fine", async () => {
    const sandboxes = adapter(fake);
    const sandbox = await sandboxes.create(input({ timeoutMs: 400 }));
    await sleep(700);
    expect(await sandbox.isAlive()).toBe(false);
    const error = await providerErrorOf(sandbox.run({ cmd: "true" }));
    expect(error.kind).toBe("conflict");
    expect(error.status).toBe(410);
    await sandbox.stop();
    expect(await sandboxes.get(sandbox.id)).toBeNull();
  });

  it("extend() reaches Vercel and keeps the session running", async () => {
    // The first timeout leaves room for a loaded machine between create and extend; the wait outlasts it.
    const sandbox = await adapter(fake).create(input({ timeoutMs: 1_500 }));
    await sandbox.extend(10_000);
    await sleep(2_000);
    expect(await sandbox.isAlive()).toBe(true);
    expect(fake.requests.some((request) => request.path.includes("/extend-timeout"))).toBe(true);
    await sandbox.stop();
  });
});

describe("vercel sandboxes: faults", () => {
  let fake: FakeVercelSandbox;
  let fault: FakeInterceptor | undefined;
  beforeAll(async () => {
    fake = await startFakeVercelSandbox({
      token,
      teamId,
      projectId,
      intercept: (request) => fault?.(request),
    });
  });
  beforeEach(() => {
    fault = undefined;
  });
  afterAll(() => fake?.close());

  /** Echoes the Authorization header back in the vendor's message, so a leak of the token would show. */
  const echoing =
    (
      status: number,
      code: string,
      headers: Record<string, string> = {},
      extra: Record<string, unknown> = {},
    ) =>
    (request: Parameters<FakeInterceptor>[0]): FakeReply => ({
      status,
      json: { error: { code, message: `refused (${request.header("authorization")})`, ...extra } },
      headers,
    });

  const cases: Array<{ name: string; reply: FakeInterceptor; kind: ProviderErrorKind; retryable: boolean }> =
    [
      { name: "401", reply: echoing(401, "unauthorized"), kind: "auth", retryable: false },
      {
        name: "403 invalid token",
        reply: echoing(403, "forbidden", {}, { invalidToken: true }),
        kind: "auth",
        retryable: false,
      },
      {
        name: "403 no access to the team",
        reply: echoing(403, "forbidden"),
        kind: "forbidden",
        retryable: false,
      },
      { name: "404", reply: echoing(404, "not_found"), kind: "not_found", retryable: false },
      { name: "409", reply: echoing(409, "sandbox_exists"), kind: "conflict", retryable: false },
      { name: "422", reply: echoing(422, "invalid_timeout"), kind: "invalid", retryable: false },
      {
        name: "429",
        reply: echoing(429, "rate_limited", { "retry-after": "30" }),
        kind: "rate_limited",
        retryable: true,
      },
      { name: "500", reply: echoing(500, "internal_error"), kind: "unavailable", retryable: true },
      { name: "503", reply: echoing(503, "service_unavailable"), kind: "unavailable", retryable: true },
    ];

  for (const testCase of cases) {
    it(`create: ${testCase.name} → ${testCase.kind}, actionable, no token in the message`, async () => {
      fault = testCase.reply;
      const error = await providerErrorOf(adapter(fake).create(input()));
      expect(error.vendor).toBe("vercel");
      expect(error.kind).toBe(testCase.kind);
      expect(error.retryable).toBe(testCase.retryable);
      expect(error.message).toMatch(/^Vercel Sandbox: creating a sandbox failed \(HTTP \d{3}/);
      expect(error.message).toContain("[redacted]");
      expect(error.message).not.toContain(token);
      expect(JSON.stringify(error)).not.toContain(token);
      expect(String(error.cause ?? "")).not.toContain(token);
      if (testCase.kind === "rate_limited") expect(error.retryAfterMs).toBe(30_000);
    });
  }

  it("an answer of an unexpected shape is internal, not a crash", async () => {
    fault = () => ({ status: 200, json: { sandbox: { name: 42 } } });
    const error = await providerErrorOf(adapter(fake).create(input()));
    expect(error.kind).toBe("internal");
    expect(error.retryable).toBe(false);
  });

  it("a hanging Vercel is a timeout", async () => {
    fault = () => ({ hang: true });
    const error = await providerErrorOf(adapter(fake, { createTimeoutMs: 300 }).create(input()));
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("within 300 ms");
  });

  it("an unreachable Vercel is unavailable", async () => {
    const closed = await startFakeVercelSandbox({ token, teamId, projectId });
    await closed.close();
    const error = await providerErrorOf(adapter(closed).get("anything"));
    expect(error.kind).toBe("unavailable");
    expect(error.message).not.toContain(token);
  });

  it("faults on later calls map too: a 500 on readFile, a 403 on get", async () => {
    const sandbox = await adapter(fake).create(input());
    fault = (request) =>
      request.path.includes("/fs/read") ? echoing(500, "internal_error")(request) : undefined;
    expect((await providerErrorOf(sandbox.readFile("x.txt"))).kind).toBe("unavailable");
    fault = (request) =>
      request.path.startsWith("/v2/sandboxes/kiln")
        ? echoing(403, "forbidden", {}, { invalidToken: true })(request)
        : undefined;
    const error = await providerErrorOf(adapter(fake).get(sandbox.id));
    expect(error.kind).toBe("auth");
    expect(error.message).not.toContain(token);
    fault = undefined;
    await sandbox.stop();
  });

  it("a wrong token against the real fake auth is an auth error", async () => {
    const error = await providerErrorOf(
      createVercelSandboxes({ token: "vcp_wrong_token_value", teamId, projectId, fetch: fake.fetch }).create(
        input(),
      ),
    );
    expect(error.kind).toBe("auth");
    expect(error.message).not.toContain("vcp_wrong_token_value");
  });

  it("refuses incomplete configuration up front", () => {
    expect(() => createVercelSandboxes({ token: "", teamId, projectId })).toThrow(/token is not configured/);
    expect(() => createVercelSandboxes({ token, teamId, projectId, runtime: "node22", image: "x" })).toThrow(
      /either runtime or image/,
    );
  });
});
