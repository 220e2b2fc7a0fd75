import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLocalSandboxes } from "../../../src/server/integrations/sandboxes/local";
import type { CreateSandboxInput, Sandboxes } from "../../../src/server/integrations/sandboxes/port";
import {
  createVercelSandboxes,
  type VercelSandboxesOptions,
} from "../../../src/server/integrations/sandboxes/vercel";
import { providerErrorOf } from "../../contracts/sandboxes";
import type { FakeInterceptor, FakeReply } from "../../fakes/http";
import { type FakeVercelSandbox, startFakeVercelSandbox } from "../../fakes/vercel-sandbox";

// The Vercel adapter's snapshot capability on the wire (@vercel/sandbox 3.x against the fake): what it sends,
// what each answer becomes, and that the local adapter refuses snapshot sources.

const token = "vcp_SnapshotSecretToken_7c1d2e";
const teamId = "team_snap";
const projectId = "prj_snap";

function adapter(fake: FakeVercelSandbox, options: Partial<VercelSandboxesOptions> = {}): Sandboxes {
  return createVercelSandboxes({ token, teamId, projectId, fetch: fake.fetch, ...options });
}

function input(overrides: Partial<CreateSandboxInput> = {}): CreateSandboxInput {
  return {
    name: `kiln-snap-${Math.random().toString(36).slice(2, 10)}`,
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 120_000,
    ...overrides,
  };
}

function snapshotOf(sandboxes: Sandboxes) {
  const snapshot = sandboxes.snapshot?.bind(sandboxes);
  if (!snapshot) throw new Error("the Vercel adapter must offer snapshot()");
  return snapshot;
}

describe("vercel sandboxes: snapshots on the wire", () => {
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

  it("snapshot() posts to the session's /snapshot with the expiration, and the sandbox is stopped", async () => {
    const sandboxes = adapter(fake);
    const sandbox = await sandboxes.create(input());
    await sandbox.writeFiles([{ path: "kept.txt", content: "kept" }]);
    const before = fake.requests.length;
    const saved = await snapshotOf(sandboxes)(sandbox, { expirationMs: 86_400_000 });
    const post = fake.requests.slice(before).find((request) => request.path.includes("/snapshot"));
    expect(post?.method).toBe("POST");
    expect(post?.path).toMatch(/^\/v2\/sandboxes\/sessions\/sbx_[0-9a-f]+\/snapshot\?teamId=team_snap$/);
    expect(JSON.parse(post?.body ?? "")).toEqual({ expiration: 86_400_000 });
    expect(saved.snapshotId).toMatch(/^snap_/);
    expect(saved.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    expect(fake.statusOf(sandbox.id)).toBe("stopped");
    expect(await sandbox.isAlive()).toBe(false);
    expect((await providerErrorOf(sandbox.run({ cmd: "true" }))).kind).toBe("conflict");
    await sandbox.stop();
  });

  it("without an expiration no body is sent and Vercel's default (30 days from last use) applies", async () => {
    const sandboxes = adapter(fake);
    const sandbox = await sandboxes.create(input());
    const before = fake.requests.length;
    const saved = await snapshotOf(sandboxes)(sandbox);
    const post = fake.requests.slice(before).find((request) => request.path.includes("/snapshot"));
    expect(post?.body).toBe("");
    const days = ((saved.expiresAt?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it("creating from a snapshot sends source {type: snapshot} and no runtime or image, even when configured", async () => {
    const sandboxes = adapter(fake, { runtime: "node22" });
    const original = await sandboxes.create(input());
    await original.writeFiles([{ path: "a/b.txt", content: "from the snapshot" }]);
    const saved = await snapshotOf(sandboxes)(original);
    const before = fake.requests.length;
    const restored = await sandboxes.create(
      input({ source: { kind: "snapshot", snapshotId: saved.snapshotId }, env: { RUN: "1" } }),
    );
    const create = fake.requests.slice(before).find((request) => request.method === "POST");
    // The SDK picks the v2 endpoint only for a runtime; a snapshot carries its own image.
    expect(create?.path).toBe(`/v3/sandboxes?teamId=${teamId}`);
    const body = JSON.parse(create?.body ?? "{}");
    expect(body.source).toEqual({ type: "snapshot", snapshotId: saved.snapshotId });
    expect(body).not.toHaveProperty("runtime");
    expect(body).not.toHaveProperty("image");
    expect(body).toMatchObject({ persistent: false, env: { RUN: "1" } });
    // No upload: the files come from the snapshot.
    expect(fake.requests.slice(before).some((request) => request.path.includes("/fs/write"))).toBe(false);
    expect(String(await restored.readFile("a/b.txt"))).toBe("from the snapshot");
    await restored.stop();
  });

  it("getSnapshot: live → its id and expiry; deleted, expired or unknown → null", async () => {
    const sandboxes = adapter(fake);
    const saved = await snapshotOf(sandboxes)(await sandboxes.create(input()));
    expect(await sandboxes.getSnapshot?.(saved.snapshotId)).toEqual(saved);
    expect(await sandboxes.getSnapshot?.("snap_unknown000")).toBeNull();

    const expiring = await snapshotOf(sandboxes)(await sandboxes.create(input()));
    fake.expireSnapshot(expiring.snapshotId);
    expect(await sandboxes.getSnapshot?.(expiring.snapshotId)).toBeNull();

    await sandboxes.deleteSnapshot?.(saved.snapshotId);
    expect(await sandboxes.getSnapshot?.(saved.snapshotId)).toBeNull();
    expect(fake.snapshots().find((s) => s.id === saved.snapshotId)?.status).toBe("deleted");
  });

  it("deleteSnapshot sends DELETE once and is idempotent for deleted and unknown snapshots", async () => {
    const sandboxes = adapter(fake);
    const saved = await snapshotOf(sandboxes)(await sandboxes.create(input()));
    const before = fake.requests.length;
    await sandboxes.deleteSnapshot?.(saved.snapshotId);
    await sandboxes.deleteSnapshot?.(saved.snapshotId);
    await sandboxes.deleteSnapshot?.("snap_neverexisted");
    const calls = fake.requests.slice(before).map((r) => `${r.method} ${r.path.split("?")[0]}`);
    expect(calls.filter((call) => call.startsWith("DELETE"))).toEqual([
      `DELETE /v2/sandboxes/snapshots/${saved.snapshotId}`,
    ]);
  });

  it("creating from an expired snapshot is not_found (410 snapshot_not_found) with what to do", async () => {
    const sandboxes = adapter(fake);
    const saved = await snapshotOf(sandboxes)(await sandboxes.create(input()));
    fake.expireSnapshot(saved.snapshotId);
    const error = await providerErrorOf(
      sandboxes.create(input({ source: { kind: "snapshot", snapshotId: saved.snapshotId } })),
    );
    expect(error.kind).toBe("not_found");
    expect(error.status).toBe(410);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("snapshot_not_found");
    expect(error.message).toContain("build it again");
  });

  it("refuses a snapshot id that is not one, before any request", async () => {
    const sandboxes = adapter(fake);
    const before = fake.requests.length;
    for (const bad of ["", "../sandboxes", "snap x", "a/b"]) {
      expect((await providerErrorOf(sandboxes.getSnapshot?.(bad) ?? Promise.resolve())).kind).toBe("invalid");
      expect(
        (await providerErrorOf(sandboxes.create(input({ source: { kind: "snapshot", snapshotId: bad } }))))
          .kind,
      ).toBe("invalid");
    }
    expect(fake.requests.length).toBe(before);
  });

  it("refuses to snapshot a sandbox of another adapter, and an invalid expiration", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-snap-local-"));
    try {
      const local = await createLocalSandboxes({ root }).create(input());
      const sandboxes = adapter(fake);
      expect((await providerErrorOf(snapshotOf(sandboxes)(local))).kind).toBe("invalid");
      await local.stop();
      const sandbox = await sandboxes.create(input());
      expect((await providerErrorOf(snapshotOf(sandboxes)(sandbox, { expirationMs: -1 }))).kind).toBe(
        "invalid",
      );
      expect(await sandbox.isAlive()).toBe(true);
      await sandbox.stop();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  /** Echoes the Authorization header in the vendor's message, so a token leak would show. */
  const echoing =
    (status: number, code: string, extra: Record<string, unknown> = {}) =>
    (request: Parameters<FakeInterceptor>[0]): FakeReply => ({
      status,
      json: { error: { code, message: `refused (${request.header("authorization")})`, ...extra } },
    });

  it("faults: snapshot 500 → unavailable (sandbox left to stop), lookup 403 → auth, 429 on delete → rate_limited; no token", async () => {
    const sandboxes = adapter(fake);
    const sandbox = await sandboxes.create(input());
    fault = (request) =>
      request.path.includes("/snapshot?") ? echoing(500, "internal_error")(request) : undefined;
    const failed = await providerErrorOf(snapshotOf(sandboxes)(sandbox));
    expect(failed.kind).toBe("unavailable");
    expect(failed.retryable).toBe(true);
    expect(failed.message).toMatch(
      /^Vercel Sandbox: taking a snapshot in sandbox kiln-snap-\w+ failed \(HTTP 500/,
    );
    fault = undefined;
    // Not marked stopped by a failed snapshot: the caller can still stop it (and does, in the template build).
    await sandbox.stop();
    expect(fake.statusOf(sandbox.id)).toBe("stopped");

    fault = (request) =>
      request.path.startsWith("/v2/sandboxes/snapshots/")
        ? echoing(403, "forbidden", { invalidToken: true })(request)
        : undefined;
    const auth = await providerErrorOf(sandboxes.getSnapshot?.("snap_abc") ?? Promise.resolve());
    expect(auth.kind).toBe("auth");

    fault = undefined;
    const saved = await snapshotOf(sandboxes)(await sandboxes.create(input()));
    fault = (request) =>
      request.method === "DELETE"
        ? { ...echoing(429, "rate_limited")(request), headers: { "retry-after": "30" } }
        : undefined;
    const limited = await providerErrorOf(sandboxes.deleteSnapshot?.(saved.snapshotId) ?? Promise.resolve());
    expect(limited.kind).toBe("rate_limited");
    expect(limited.retryAfterMs).toBe(30_000);
    for (const error of [failed, auth, limited]) {
      expect(error.message).not.toContain(token);
      expect(error.message).toContain("[redacted]");
      expect(JSON.stringify(error)).not.toContain(token);
    }
  });
});

describe("local sandboxes: snapshot sources", () => {
  it("are refused as unsupported, pointing at the template cache, and leave nothing behind", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-snap-local-"));
    try {
      const local = createLocalSandboxes({ root });
      expect(local.snapshot).toBeUndefined();
      const error = await providerErrorOf(
        local.create(input({ source: { kind: "snapshot", snapshotId: "snap_123" } })),
      );
      expect(error.vendor).toBe("local-sandbox");
      expect(error.kind).toBe("unsupported");
      expect(error.message).toContain("template");
      expect(fs.readdirSync(root).filter((entry) => entry.startsWith("lsb_"))).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
