import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runnerStatusFile } from "@/sandboxes/runner/runner-status";
import { createOperator } from "@/server/auth/operators";
import type { Revision } from "@/server/db/schema";
import { eventBodySchema } from "@/server/events/schema";
import { newId } from "@/server/ids";
import type { Providers } from "@/server/integrations/registry";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { failUnreachableRunners } from "@/server/maintenance/unreachable-runners";
import { createProject } from "@/server/operations/create-project";
import { buildRunnerBundle, type RunnerBundle } from "@/server/runner-bundle/build-runner";
import { ensureToolchain, type Toolchain } from "@/server/toolchains/install";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { toolchainCacheRoot } from "../helpers/toolchains";

// A Kiln whose KILN_PUBLIC_URL its sandboxes cannot reach (the issue's `npm run dev -- -p 43319` with the default
// http://localhost:3000): the real runner bundle in a local sandbox made by the platform's own adapter (its door to
// the platform, under root), pointed at an address where nothing listens. The runner must give up and leave word;
// the maintenance job must fail the revision with that address and the setting to fix, and free the sandbox.

let dataDir: string;
let templateDir: string;
let bundle: RunnerBundle;
let codex: Toolchain;
let providers: Providers;
/** An address where nothing listens: what a wrong KILN_PUBLIC_URL points the sandboxes at. */
let deadUrl: string;

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  // Outside /tmp (local sandboxes get a /tmp of their own) and enterable by the sandbox's uid.
  dataDir = fs.mkdtempSync(path.join("/var/tmp", "kiln-unreachable-"));
  fs.chmodSync(dataDir, 0o755);
  templateDir = path.join(dataDir, "template");
  fs.mkdirSync(templateDir);
  fs.writeFileSync(path.join(templateDir, "package.json"), '{"name":"unreachable-app","private":true}\n');
  codex = await ensureToolchain({ cacheRoot: toolchainCacheRoot(), agent: "codex" });
  bundle = await buildRunnerBundle(path.join(dataDir, "bundles"));
  providers = localProvidersAt(path.join(dataDir, "data"));
  deadUrl = `http://127.0.0.1:${await closedPort()}`;
}, 10 * 60_000);

afterAll(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe.each(testDatabases)("a runner that cannot reach Kiln, on $name", (factory) => {
  let t: TestDatabase;
  let userId: string;
  const sandboxes: SandboxHandle[] = [];
  const deps = () => ({ db: t.db, providersFor: async () => providers });

  beforeEach(async () => {
    t = await factory.open();
    userId = (
      await createOperator(
        t.db,
        { email: "ops@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
  });
  afterEach(async () => {
    for (const sandbox of sandboxes.splice(0)) await sandbox.stop();
    await t.drop();
  });

  /** A revision generating in a fresh sandbox, as the pipeline leaves it when it starts the runner. */
  async function generatingRevision(options: { heardAt?: number } = {}) {
    const { project, revision } = await createProject(
      t.db,
      userId,
      { prompt: "A guest book" },
      localProviderChoices,
    );
    const sandbox = await providers.sandboxes.create({
      name: `unreachable-${Date.now()}`,
      source: { kind: "directory", path: templateDir },
      ports: [],
      env: {},
      timeoutMs: 5 * 60_000,
      readOnlyPaths: [codex.dir],
    });
    sandboxes.push(sandbox);
    const sandboxRowId = newId("sandbox");
    const now = Date.now();
    await t.db
      .insertInto("sandbox")
      .values({
        id: sandboxRowId,
        project_id: project.id,
        provider: sandbox.kind,
        external_id: sandbox.id,
        status: "running",
        webhook_secret_ciphertext: "unused",
        preview_url: null,
        last_event_at: options.heardAt ?? null,
        created_at: now,
        updated_at: now,
        stopped_at: null,
      })
      .execute();
    await t.db
      .updateTable("revision")
      .set({
        status: "generating",
        step: "generate",
        sandbox_id: sandboxRowId,
        started_at: now,
        updated_at: now,
      })
      .where("id", "=", revision.id)
      .execute();
    return { revisionId: revision.id, sandbox, sandboxRowId };
  }

  async function read(revisionId: string): Promise<Revision> {
    return t.db.selectFrom("revision").selectAll().where("id", "=", revisionId).executeTakeFirstOrThrow();
  }

  async function platformEvents(revisionId: string) {
    const rows = await t.db
      .selectFrom("event")
      .select(["type", "payload"])
      .where("revision_id", "=", revisionId)
      .orderBy("seq")
      .execute();
    return rows.map((row) => eventBodySchema.parse({ type: row.type, payload: JSON.parse(row.payload) }));
  }

  /** The runner as generate.ts starts it, told that Kiln is at `publicUrl`; resolves once it has exited. */
  async function runRunner(publicUrl: string) {
    const { revisionId, sandbox, sandboxRowId } = await generatingRevision();
    // The platform through the sandbox's door when it has one (contained local sandboxes), else publicUrl itself.
    const platformUrl = (await sandbox.platformUrl?.({ publicUrl, webhookId: sandboxRowId })) ?? publicUrl;
    const spec = {
      runId: `${revisionId}-a1b2c3`,
      seqBase: 3,
      revisionId,
      agent: "codex",
      prompt: "A guest book",
      model: "gpt-5.5",
      gatewayBaseUrl: `${platformUrl}/gateway`,
      runToken: "krt_unreachable-test-token",
      webhookUrl: `${platformUrl}/hooks/v1/sandboxes/${sandboxRowId}`,
      webhookSecret: "whsec_unreachable-test-secret",
      databaseUrl: "file:/nowhere/app.db",
      workdir: sandbox.workdir,
      agentHome: path.posix.join(sandbox.workdir, ".kiln", "home"),
      binPath: codex.binPath,
      steps: { migrate: false, build: false, commit: false, preview: false },
      limits: { reachPlatformMs: 2_000 },
    };
    await sandbox.writeFiles([
      { path: ".kiln/runner.mjs", content: fs.readFileSync(bundle.file) },
      { path: ".kiln/run.json", content: JSON.stringify(spec) },
      // An earlier run's word must not stand for this one's.
      { path: runnerStatusFile, content: '{"state":"unreachable","url":"stale","error":"stale","at":1}' },
    ]);
    const runner = await sandbox.runDetached({
      cmd: "node",
      args: [".kiln/runner.mjs", path.posix.join(sandbox.workdir, ".kiln/run.json")],
    });
    // Bounded by the test's timeout: a runner that keeps retrying (the old one did for minutes) fails here.
    const { exitCode } = await runner.wait();
    const written: unknown = JSON.parse(
      (await sandbox.readFile(runnerStatusFile))?.toString("utf8") ?? "null",
    );
    return { revisionId, sandbox, spec, exitCode, written };
  }

  it("gives up, says why in its status file, and the revision fails naming the address and KILN_PUBLIC_URL", async () => {
    const { revisionId, sandbox, spec, exitCode, written } = await runRunner(deadUrl);
    expect(exitCode).toBe(1);
    expect(written).toMatchObject({ state: "unreachable", url: spec.webhookUrl });
    expect(written).not.toMatchObject({ error: "stale" });

    expect(await failUnreachableRunners(deps(), { publicUrl: deadUrl, graceMs: 0 })).toEqual([revisionId]);
    const failed = await read(revisionId);
    expect([failed.status, failed.error_code]).toEqual(["failed", "sandbox_unreachable"]);
    expect(failed.error_message).toContain(`could not reach Kiln at ${deadUrl}`);
    expect(failed.error_message).toContain("KILN_PUBLIC_URL");
    expect(failed.error_message).not.toMatch(/platform restarted|last checkpoint/);
    // Watchers and the public replay learn it from the event stream.
    expect(await platformEvents(revisionId)).toEqual(
      expect.arrayContaining([
        { type: "step.failed", payload: { step: "generate", reason: failed.error_message } },
        { type: "revision.status", payload: { status: "failed", reason: failed.error_message } },
      ]),
    );
    // Its sandbox is freed, and the next pass has nothing left to do.
    expect(await providers.sandboxes.get(sandbox.id)).toBeNull();
    expect(await failUnreachableRunners(deps(), { publicUrl: deadUrl, graceMs: 0 })).toEqual([]);
  }, 120_000);

  it("says so too when a server that is not Kiln answers at that address", async () => {
    const other = http.createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" }).end("Cannot POST this path\n");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const { revisionId, exitCode, written } = await runRunner(otherUrl);
      expect(exitCode).toBe(1);
      expect(written).toMatchObject({ state: "unreachable", error: "HTTP 404: Cannot POST this path" });
      expect(await failUnreachableRunners(deps(), { publicUrl: otherUrl, graceMs: 0 })).toEqual([revisionId]);
      expect((await read(revisionId)).error_message).toContain(
        `could not reach Kiln at ${otherUrl}: HTTP 404: Cannot POST this path.`,
      );
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  }, 120_000);

  it("believes no status file once the runner was heard, and leaves a runner that left none alone", async () => {
    const heard = await generatingRevision({ heardAt: Date.now() + 1_000 });
    // The agent runs as the runner's user and could write the file: after the runner's first event, it is ignored.
    await heard.sandbox.writeFiles([
      {
        path: runnerStatusFile,
        content: JSON.stringify({ state: "unreachable", url: "x", error: "forged", at: 1 }),
      },
    ]);
    const quiet = await generatingRevision();

    const later = Date.now() + 5 * 60_000;
    expect(await failUnreachableRunners(deps(), { publicUrl: deadUrl, now: later })).toEqual([]);
    expect((await read(heard.revisionId)).status).toBe("generating");
    expect((await read(quiet.revisionId)).status).toBe("generating");
    expect(await providers.sandboxes.get(quiet.sandbox.id)).not.toBeNull();
  }, 60_000);
});
