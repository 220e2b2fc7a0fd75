import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { encryptSecret } from "@/server/crypto/encryption";
import { insertRevision } from "@/server/db/queries/revisions";
import type { Revision } from "@/server/db/schema";
import { encryptWebhookSecret, newWebhookSecret } from "@/server/events/webhook-secret";
import { newId } from "@/server/ids";
import type { DbRoot } from "@/server/integrations/database-branches/port";
import type { Providers } from "@/server/integrations/registry";
import type { DetachedCommand, SandboxHandle } from "@/server/integrations/sandboxes/port";
import { pruneAllProjects, pruneBranches } from "@/server/maintenance/branch-retention";
import { sleepIdleSandboxes } from "@/server/maintenance/idle-sandboxes";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { wakeRevision } from "@/server/pipeline/wake-revision";
import { createRestore } from "@/server/revisions/create-revision";
import { queuedRevisionRow } from "@/server/revisions/queued-revision";
import { getRevisionOrThrow } from "@/server/revisions/revision-queries";
import { requestWake } from "@/server/revisions/wake-revision-request";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { type PipelineHarness, startPipelineHarness } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// Idle cleanup and branch retention on a real control-plane database with real local adapters: bubblewrap
// sandboxes running a process that must die, libSQL branch files that must disappear (or stay).

const local = localProviderChoices;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(testDatabases)("idle sandboxes and branch retention on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let providers: Providers;
  let deps: { db: TestDatabase["db"]; providersFor(): Promise<Providers> };
  let ada: string;
  let grace: string;
  let created: CreatedProject;
  const handles: SandboxHandle[] = [];

  beforeEach(async () => {
    t = await factory.open();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-idle-retention-"));
    providers = localProvidersAt(dataDir);
    deps = { db: t.db, providersFor: async () => providers };
    const operator = (email: string) =>
      createOperator(t.db, { email, password: "correct horse battery" }, { bcryptCost: 4 });
    ada = (await operator("ada@example.com")).id;
    grace = (await operator("grace@example.com")).id;
    created = await createProject(t.db, ada, { prompt: "A todo app" }, local);
  });
  afterEach(async () => {
    await Promise.allSettled(handles.splice(0).map((handle) => handle.stop()));
    await t.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Checkpoint `ordinal` of the project's task (1 exists already), then changed as given. */
  async function checkpoint(ordinal: number, change: Partial<Revision>): Promise<string> {
    let id = created.revision.id;
    if (ordinal > 1) {
      id = newId("revision");
      await insertRevision(
        t.db,
        queuedRevisionRow(
          {
            id,
            project_id: created.project.id,
            task_id: created.task.id,
            ordinal,
            kind: "prompt",
            prompt: `change ${ordinal}`,
            agent: "codex",
            model: null,
            parent_revision_id: null,
            restored_from_revision_id: null,
          },
          Date.now(),
        ),
      );
    }
    await t.db.updateTable("revision").set(change).where("id", "=", id).execute();
    return id;
  }

  /** A sandbox row (and optionally a real sandbox behind it) whose last activity was `idleFor` ago. */
  async function sandboxRow(
    revisionId: string,
    options: { idleFor: number; externalId: string | null; stoppedAt?: number },
  ): Promise<string> {
    const id = newId("sandbox");
    const at = Date.now() - options.idleFor;
    await t.db
      .insertInto("sandbox")
      .values({
        id,
        project_id: created.project.id,
        provider: "local",
        external_id: options.externalId,
        status: options.stoppedAt ? "stopped" : "running",
        webhook_secret_ciphertext: encryptWebhookSecret(Buffer.alloc(32, 7), id, newWebhookSecret()),
        preview_url: "http://127.0.0.1:1",
        last_event_at: at,
        created_at: at,
        updated_at: at,
        stopped_at: options.stoppedAt ?? null,
      })
      .execute();
    await t.db.updateTable("revision").set({ sandbox_id: id }).where("id", "=", revisionId).execute();
    return id;
  }

  /** A real local sandbox with a long-running process in it. */
  async function liveSandbox(): Promise<{ handle: SandboxHandle; process: DetachedCommand }> {
    const handle = await providers.sandboxes.create({
      name: `idle-${Math.random().toString(36).slice(2, 8)}`,
      source: { kind: "empty" },
      ports: [],
      env: {},
      timeoutMs: 300_000,
    });
    handles.push(handle);
    return { handle, process: await handle.runDetached({ cmd: "sleep", args: ["600"] }) };
  }

  const exited = (process: DetachedCommand, ms: number) =>
    Promise.race([
      process.wait().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
    ]);

  async function progressMessages(revisionId: string): Promise<string[]> {
    const rows = await t.db
      .selectFrom("event")
      .select(["type", "payload"])
      .where("revision_id", "=", revisionId)
      .orderBy("seq")
      .execute();
    return rows.flatMap((row) => (row.type === "progress" ? [JSON.parse(row.payload).message] : []));
  }

  it("puts only idle sandboxes of ended checkpoints to sleep: the process stops, the preview reads asleep", async () => {
    const idleFinished = await liveSandbox();
    const idleRunning = await liveSandbox();
    const recentFinished = await liveSandbox();
    const finished = { status: "finished", commit_sha: "a".repeat(40), preview_url: "http://127.0.0.1:1" };
    const r1 = await checkpoint(1, finished);
    const r2 = await checkpoint(2, { status: "cancelled" });
    const r3 = await checkpoint(3, finished);
    const r4 = await checkpoint(4, { status: "generating" });
    const sleepy = await sandboxRow(r1, { idleFor: HOUR, externalId: idleFinished.handle.id });
    // The provider no longer knows this one (it expired): the row must still end up stopped.
    const vanished = await sandboxRow(r2, { idleFor: HOUR, externalId: "sbx-gone-long-ago" });
    await sandboxRow(r3, { idleFor: MINUTE, externalId: recentFinished.handle.id });
    await sandboxRow(r4, { idleFor: HOUR, externalId: idleRunning.handle.id });

    const slept = await sleepIdleSandboxes(deps, { idleMs: 30 * MINUTE });
    expect(slept.sort()).toEqual([sleepy, vanished].sort());

    expect(await idleFinished.handle.isAlive()).toBe(false);
    expect(await exited(idleFinished.process, 10_000)).toBe(true);
    // A running checkpoint's sandbox and a recently used one are left alone.
    expect(await idleRunning.handle.isAlive()).toBe(true);
    expect(await recentFinished.handle.isAlive()).toBe(true);
    expect(await exited(idleRunning.process, 200)).toBe(false);

    const rows = await t.db.selectFrom("sandbox").select(["id", "status", "stopped_at"]).execute();
    const stopped = rows.filter((row) => row.stopped_at !== null).map((row) => [row.id, row.status]);
    expect(stopped.sort()).toEqual(
      [
        [sleepy, "stopped"],
        [vanished, "stopped"],
      ].sort(),
    );
    expect(await progressMessages(r1)).toEqual([
      "The preview went to sleep after 30 minutes idle; wake it to continue.",
    ]);
    expect(await progressMessages(r3)).toEqual([]);

    // What the workspace reads: asleep for the slept checkpoint only.
    expect((await getRevisionOrThrow(t.db, testPreviewOrigins, ada, r1)).previewAsleep).toBe(true);
    expect((await getRevisionOrThrow(t.db, testPreviewOrigins, ada, r3)).previewAsleep).toBe(false);
    expect((await getRevisionOrThrow(t.db, testPreviewOrigins, ada, r4)).previewAsleep).toBe(false);

    // A second pass finds nothing more to do.
    expect(await sleepIdleSandboxes(deps, { idleMs: 30 * MINUTE })).toEqual([]);
  });

  describe("branch retention", () => {
    let root: DbRoot;
    let branchOf: Map<string, { rowId: string; file: string }>;

    beforeEach(async () => {
      const made = await providers.database.createRoot({ name: "p-retention" });
      root = made.root;
      await t.db
        .updateTable("project")
        .set({ db_root_id: root.id, db_root_name: root.name })
        .where("id", "=", created.project.id)
        .execute();
      const mainRowId = newId("dbBranch");
      await insertBranchRow(mainRowId, made.main.id, null, made.connection);
      branchOf = new Map([["main", { rowId: mainRowId, file: fileOf(made.connection.databaseUrl) }]]);
    });

    /** The libSQL adapter's DATABASE_URL is `file:` and the absolute path of the branch's file. */
    function fileOf(databaseUrl: string): string {
      return databaseUrl.slice("file:".length);
    }

    async function insertBranchRow(
      rowId: string,
      externalId: string,
      parentRowId: string | null,
      connection: { databaseUrl: string; hostPaths: string[] },
    ) {
      const now = Date.now();
      await t.db
        .insertInto("db_branch")
        .values({
          id: rowId,
          project_id: created.project.id,
          provider: "libsql",
          external_id: externalId,
          name: externalId,
          parent_branch_id: parentRowId,
          status: "active",
          connection_ciphertext: encryptSecret(
            Buffer.alloc(32, 7),
            JSON.stringify(connection),
            `db_branch:${rowId}`,
          ),
          created_at: now,
          updated_at: now,
          deleted_at: null,
        })
        .execute();
    }

    /** A checkpoint with a real branch of its own (forked from main), as provisioning leaves it. */
    async function checkpointWithBranch(ordinal: number, change: Partial<Revision>): Promise<string> {
      const { branch, connection } = await providers.database.createBranch(root, { name: `r${ordinal}` });
      const rowId = newId("dbBranch");
      await insertBranchRow(rowId, branch.id, branchOf.get("main")?.rowId ?? null, connection);
      const id = await checkpoint(ordinal, { ...change, db_branch_id: rowId });
      branchOf.set(id, { rowId, file: fileOf(connection.databaseUrl) });
      return id;
    }

    const branch = (revisionId: string) => {
      const found = branchOf.get(revisionId);
      if (!found) throw new Error(`no branch for ${revisionId}`);
      return found;
    };

    async function branchRow(revisionId: string) {
      return t.db
        .selectFrom("db_branch")
        .select(["status", "deleted_at", "connection_ciphertext"])
        .where("id", "=", branch(revisionId).rowId)
        .executeTakeFirstOrThrow();
    }

    it("deletes exactly the older checkpoints' branches (files gone) and keeps the newest, main and those in use", async () => {
      const done = (ordinal: number) => ({
        status: "finished",
        commit_sha: String(ordinal).repeat(40),
        preview_url: "http://127.0.0.1:1",
      });
      const r1 = await checkpointWithBranch(1, done(1));
      const r2 = await checkpointWithBranch(2, done(2));
      const r3 = await checkpointWithBranch(3, done(3));
      const r4 = await checkpointWithBranch(4, { status: "failed" });
      const r5 = await checkpointWithBranch(5, done(5));
      // Running: a restore of checkpoint 3, which it is about to fork from.
      const r6 = await checkpointWithBranch(6, {
        status: "generating",
        kind: "restore",
        parent_revision_id: r3,
        restored_from_revision_id: r3,
      });
      // Checkpoint 2's preview is awake: its dev server uses the branch.
      await sandboxRow(r2, { idleFor: MINUTE, externalId: null });

      const pruned = await pruneBranches(deps, created.project.id, 2);
      expect(pruned.sort()).toEqual([branch(r1).rowId, branch(r4).rowId].sort());
      for (const gone of [r1, r4]) {
        expect(fs.existsSync(branch(gone).file)).toBe(false);
        expect(await branchRow(gone)).toEqual({
          status: "deleted",
          deleted_at: expect.any(Number),
          connection_ciphertext: null,
        });
      }
      for (const kept of ["main", r2, r3, r5, r6]) {
        expect(fs.existsSync(branch(kept).file), `branch of ${kept}`).toBe(true);
      }
      expect((await providers.database.listBranches(root)).map((b) => b.id).sort()).toEqual(
        ["main", "r2", "r3", "r5", "r6"].sort(),
      );
      expect(await pruneBranches(deps, created.project.id, 2)).toEqual([]);

      // The restore ends, and the project keeps only its newest checkpoint: its own number beats the default.
      await t.db
        .updateTable("revision")
        .set({ status: "finished", commit_sha: "6".repeat(40) })
        .where("id", "=", r6)
        .execute();
      await t.db
        .updateTable("project")
        .set({ branch_retention: 1 })
        .where("id", "=", created.project.id)
        .execute();
      const second = await pruneAllProjects(deps, 20);
      expect(second.sort()).toEqual([branch(r3).rowId, branch(r5).rowId].sort());
      expect((await providers.database.listBranches(root)).map((b) => b.id).sort()).toEqual([
        "main",
        "r2",
        "r6",
      ]);
      expect(await pruneAllProjects(deps, 20)).toEqual([]);
    });

    it("deletes a stored build once every checkpoint naming it lost its branch, and keeps one a kept checkpoint names", async () => {
      const done = (ordinal: number, buildKey: string) => ({
        status: "finished",
        commit_sha: String(ordinal).repeat(40),
        build_key: buildKey,
      });
      const shared = `builds/${created.project.id}/${"a".repeat(40)}.tar.gz`;
      const own = `builds/${created.project.id}/${"b".repeat(40)}.tar.gz`;
      await providers.blob.put(shared, Buffer.from("shared build"));
      await providers.blob.put(own, Buffer.from("checkpoint 2's build"));
      // Checkpoint 3 restored checkpoint 1: the same tree, the same build.
      const r1 = await checkpointWithBranch(1, done(1, shared));
      const r2 = await checkpointWithBranch(2, done(2, own));
      const r3 = await checkpointWithBranch(3, done(3, shared));

      expect((await pruneBranches(deps, created.project.id, 1)).sort()).toEqual(
        [branch(r1).rowId, branch(r2).rowId].sort(),
      );
      expect(await providers.blob.head(own), "no checkpoint with a branch names it").toBeNull();
      expect(await providers.blob.head(shared), "checkpoint 3 still serves it").not.toBeNull();
      const keys = await t.db
        .selectFrom("revision")
        .select(["id", "build_key"])
        .where("id", "in", [r1, r2, r3])
        .execute();
      expect(Object.fromEntries(keys.map((row) => [row.id, row.build_key]))).toEqual({
        [r1]: shared,
        [r2]: null,
        [r3]: shared,
      });
    });

    it("refuses to restore or wake a checkpoint whose branch retention removed, saying why", async () => {
      const done = { status: "finished", commit_sha: "c".repeat(40), preview_url: "http://127.0.0.1:1" };
      const r1 = await checkpointWithBranch(1, done);
      await checkpointWithBranch(2, done);
      await checkpointWithBranch(3, done);
      expect(await pruneAllProjects(deps, 2)).toEqual([branch(r1).rowId]);

      const restore = await appErrorOf(
        createRestore(t.db, testPreviewOrigins, ada, r1, { defaultRetention: 2 }),
      );
      expect([restore.code, restore.status, restore.message]).toEqual([
        "conflict:branch_pruned",
        409,
        "Checkpoint 1 cannot be restored. Its database branch was removed by retention (the project keeps the last 2 checkpoints).",
      ]);
      const wake = await appErrorOf(requestWake(t.db, testPreviewOrigins, ada, r1, { defaultRetention: 2 }));
      expect([wake.code, wake.message]).toEqual([
        "conflict:branch_pruned",
        "Checkpoint 1 cannot be woken. Its database branch was removed by retention (the project keeps the last 2 checkpoints).",
      ]);
      // Nothing was queued by the refused restore.
      const revisions = await t.db.selectFrom("revision").select("id").execute();
      expect(revisions).toHaveLength(3);
    });
  });

  it("lets only the owner wake a finished checkpoint's sleeping preview", async () => {
    const finished = { status: "finished", commit_sha: "d".repeat(40), preview_url: "http://127.0.0.1:1" };
    const r1 = await checkpoint(1, { ...finished, db_branch_id: "dbb_unrecorded" });
    const r2 = await checkpoint(2, { status: "generating" });
    await sandboxRow(r1, { idleFor: HOUR, externalId: null, stoppedAt: Date.now() });

    expect((await appErrorOf(requestWake(t.db, testPreviewOrigins, grace, r1))).code).toBe(
      "not_found:revision",
    );
    const running = await appErrorOf(requestWake(t.db, testPreviewOrigins, ada, r2));
    expect([running.code, running.message]).toEqual([
      "conflict:revision_state",
      "Checkpoint 2 is generating: only a finished checkpoint's preview can be woken.",
    ]);
    const accepted = await requestWake(t.db, testPreviewOrigins, ada, r1);
    expect(accepted).toMatchObject({ id: r1, status: "finished", previewAsleep: true });

    // Awake already: nothing to wake.
    await sandboxRow(r1, { idleFor: 0, externalId: null });
    const awake = await appErrorOf(requestWake(t.db, testPreviewOrigins, ada, r1));
    expect([awake.code, awake.message]).toEqual([
      "conflict:revision_state",
      "The preview of checkpoint 1 is already awake.",
    ]);
  });
});

// The whole loop on the real pipeline: a checkpoint built by the scripted agent, its preview put to sleep, woken
// from its commit and database branch into a new sandbox, and a second wake changing nothing.
describe("waking a sleeping preview, end to end on local adapters", { timeout: 900_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"] });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function answers(url: string): Promise<boolean> {
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return response.ok;
    } catch (error) {
      // Refused or timed out: nothing serves the preview there.
      if (error instanceof Error) return false;
      throw error;
    }
  }

  const progress = async (revisionId: string) =>
    (await h.events(revisionId)).flatMap((event) =>
      event.type === "progress" ? [event.payload.message] : [],
    );

  it("sleeps the finished preview, wakes it on its own database, and a second wake does nothing", async () => {
    const created = await h.createProject("build a todo app");
    await h.run(created.revision.id);
    const built = await h.waitForEnd(created.revision.id);
    expect(built.status).toBe("finished");
    expect(built.preview_url).not.toBeNull();
    const id = built.id;
    // The build its runner verified, still in the checkpoint's sandbox (and stored as its build output).
    const verifiedBuildId = (await (await h.sandboxOf(built))?.readFile(".next/BUILD_ID"))?.toString();
    expect(verifiedBuildId).toMatch(/\S/);
    expect(built.build_key).not.toBeNull();

    const slept = await sleepIdleSandboxes(
      { db: h.db, providersFor: async () => h.providers },
      { idleMs: MINUTE, now: Date.now() + 2 * MINUTE },
    );
    expect(slept).toEqual([built.sandbox_id]);
    expect(await answers(built.preview_url ?? "")).toBe(false);
    expect((await getRevisionOrThrow(h.db, testPreviewOrigins, h.userId, id)).previewAsleep).toBe(true);
    expect(await progress(id)).toContain(
      "The preview went to sleep after 1 minute idle; wake it to continue.",
    );

    await requestWake(h.db, testPreviewOrigins, h.userId, id);
    await wakeRevision(h.deps, id);
    const woken = await h.revision(id);
    expect(woken.status).toBe("finished");
    expect(woken.sandbox_id).not.toBe(built.sandbox_id);
    expect(woken.preview_url).not.toBeNull();
    // /api/health checks the app's database: the woken preview runs on the checkpoint's branch.
    expect(await answers(woken.preview_url ?? "")).toBe(true);
    // Woken with `next start` on the checkpoint's stored build, not a cold dev server (which has no BUILD_ID).
    expect((await (await h.sandboxOf(woken))?.readFile(".next/BUILD_ID"))?.toString()).toBe(verifiedBuildId);
    expect((await getRevisionOrThrow(h.db, testPreviewOrigins, h.userId, id)).previewAsleep).toBe(false);
    expect((await progress(id)).slice(-2)).toEqual(["Waking the preview…", "The preview is awake."]);

    const eventsBefore = (await h.events(id)).length;
    await wakeRevision(h.deps, id);
    expect((await h.revision(id)).sandbox_id).toBe(woken.sandbox_id);
    expect(await h.events(id)).toHaveLength(eventsBefore);
    expect((await appErrorOf(requestWake(h.db, testPreviewOrigins, h.userId, id))).message).toBe(
      "The preview of checkpoint 1 is already awake.",
    );
  });
});
