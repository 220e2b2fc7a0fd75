import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import type { Project, Revision, Task } from "@/server/db/schema";
import { decryptWebhookSecret } from "@/server/events/webhook-secret";
import { decryptBranchConnection } from "@/server/integrations/database-branches/branch-connection";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { createProject } from "@/server/operations/create-project";
import { type ProvisionContext, provisionRevision } from "@/server/pipeline/steps/provision";
import { stopRevisionSandbox } from "@/server/pipeline/stop-sandbox";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { TEMPLATE_DIR, templateCache } from "../helpers/template";
import { toolchainCacheRoot } from "../helpers/toolchains";

// Provisioning for real on local adapters: a bare git repository, libSQL branches, a bubblewrap sandbox from the
// warm template cache with the agent's toolchain bound in. One control-plane dialect is enough here (the queries
// are covered on both elsewhere); libSQL keeps it quick.

const local = localProviderChoices;
const sandboxes: SandboxHandle[] = [];

describe("provisioning a revision", { timeout: 300_000 }, () => {
  let t: TestDatabase;
  let dataDir: string;
  let ctx: ProvisionContext;
  let userId: string;

  beforeAll(async () => {
    await templateCache();
  });
  beforeEach(async () => {
    const libsql = testDatabases[0];
    if (!libsql) throw new Error("no test database");
    t = await libsql.open();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-provision-"));
    ctx = {
      db: t.db,
      key: randomBytes(32),
      providers: localProvidersAt(dataDir),
      templateDir: TEMPLATE_DIR,
      templateCacheRoot: path.dirname((await templateCache()).dir),
      toolchainsRoot: toolchainCacheRoot(),
      sandboxTimeoutMs: 300_000,
    };
    userId = (
      await createOperator(
        t.db,
        { email: "ops@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
  });
  afterEach(async () => {
    await Promise.allSettled(sandboxes.splice(0).map((sandbox) => sandbox.stop()));
    await t.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.allSettled(sandboxes.map((sandbox) => sandbox.stop()));
  });

  async function rows(projectId: string, revisionId: string) {
    const project = await t.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    const task = await t.db
      .selectFrom("task")
      .selectAll()
      .where("project_id", "=", projectId)
      .executeTakeFirstOrThrow();
    const revision = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", revisionId)
      .executeTakeFirstOrThrow();
    return { project, task, revision } satisfies { project: Project; task: Task; revision: Revision };
  }

  it("creates the repo from the template with the app's name, the database root and branch, and a warm sandbox", async () => {
    const created = await createProject(
      t.db,
      userId,
      { prompt: "A plant watering log", name: "Fern Friends" },
      local,
    );
    const first = await rows(created.project.id, created.revision.id);
    const done = await provisionRevision(ctx, { ...first, parent: undefined });
    sandboxes.push(done.sandbox);

    const after = await rows(created.project.id, created.revision.id);
    expect(after.project.repo_full_name).toBe(done.repo.fullName);
    expect(await ctx.providers.git.resolveRef(done.repo, "main")).toBe(done.baseSha);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-provision-export-"));
    await ctx.providers.git.exportTree(done.repo, done.baseSha, exported);
    expect(JSON.parse(fs.readFileSync(path.join(exported, "app.json"), "utf8")).name).toBe("Fern Friends");
    expect(fs.existsSync(path.join(exported, "node_modules"))).toBe(false);
    fs.rmSync(exported, { recursive: true, force: true });

    expect(after.project.db_root_id).not.toBeNull();
    expect(after.revision.db_branch_id).toBe(done.dbBranchId);
    expect(after.revision.sandbox_id).toBe(done.sandboxRowId);
    const branch = await t.db
      .selectFrom("db_branch")
      .selectAll()
      .where("id", "=", done.dbBranchId)
      .executeTakeFirstOrThrow();
    expect(branch.connection_ciphertext).not.toContain(done.connection.databaseUrl);
    expect(decryptBranchConnection(ctx.key, branch.id, branch.connection_ciphertext ?? "")).toEqual(
      done.connection,
    );
    expect(done.connection.databaseUrl).toMatch(/^file:\//);

    const sandboxRow = await t.db
      .selectFrom("sandbox")
      .selectAll()
      .where("id", "=", done.sandboxRowId)
      .executeTakeFirstOrThrow();
    expect(sandboxRow.webhook_secret_ciphertext).not.toContain(done.webhookSecret);
    expect(decryptWebhookSecret(ctx.key, sandboxRow.id, sandboxRow.webhook_secret_ciphertext)).toBe(
      done.webhookSecret,
    );

    // The sandbox: the app named, dependencies installed, the agent CLI reachable read-only, the branch's file writable.
    expect(JSON.parse((await done.sandbox.readFile("app.json"))?.toString() ?? "{}").name).toBe(
      "Fern Friends",
    );
    expect((await done.sandbox.run({ cmd: "test", args: ["-d", "node_modules/next"] })).exitCode).toBe(0);
    expect((await done.sandbox.run({ cmd: done.toolchain.binPath, args: ["--version"] })).stdout).toContain(
      done.toolchain.version,
    );
    const dbFile = done.connection.databaseUrl.slice("file:".length);
    expect((await done.sandbox.run({ cmd: "touch", args: [dbFile] })).exitCode).toBe(0);

    // Cancelling or failing the run stops its sandbox once, and records it.
    const deps = { db: t.db, providersFor: async () => ctx.providers };
    expect(await stopRevisionSandbox(deps, created.revision.id)).toBe(true);
    expect(await done.sandbox.isAlive()).toBe(false);
    const stopped = await t.db
      .selectFrom("sandbox")
      .selectAll()
      .where("id", "=", done.sandboxRowId)
      .executeTakeFirstOrThrow();
    expect([stopped.status, stopped.stopped_at !== null]).toEqual(["stopped", true]);
    expect(await stopRevisionSandbox(deps, created.revision.id)).toBe(false);
  });

  it("forks a follow-up's branch from its parent's and starts its sandbox at the parent's commit", async () => {
    const created = await createProject(t.db, userId, { prompt: "A reading list", name: "Shelf" }, local);
    const first = await rows(created.project.id, created.revision.id);
    const one = await provisionRevision(ctx, { ...first, parent: undefined });
    sandboxes.push(one.sandbox);
    await t.db
      .updateTable("revision")
      .set({ commit_sha: one.baseSha, status: "finished" })
      .where("id", "=", created.revision.id)
      .execute();

    const followUpId = `rev_${randomBytes(8).toString("hex")}`;
    await t.db
      .insertInto("revision")
      .values({
        ...first.revision,
        id: followUpId,
        ordinal: 2,
        prompt: "Add tags",
        db_branch_id: null,
        sandbox_id: null,
        commit_sha: null,
        status: "queued",
        parent_revision_id: created.revision.id,
      })
      .execute();
    const second = await rows(created.project.id, followUpId);
    const parent = (await rows(created.project.id, created.revision.id)).revision;
    const two = await provisionRevision(ctx, { ...second, parent });
    sandboxes.push(two.sandbox);

    expect(two.repo).toEqual(one.repo);
    expect(two.baseSha).toBe(one.baseSha);
    expect(two.dbBranchId).not.toBe(one.dbBranchId);
    const child = await t.db
      .selectFrom("db_branch")
      .selectAll()
      .where("id", "=", two.dbBranchId)
      .executeTakeFirstOrThrow();
    expect(child.parent_branch_id).toBe(one.dbBranchId);
    expect(JSON.parse((await two.sandbox.readFile("app.json"))?.toString() ?? "{}").name).toBe("Shelf");

    // Idempotent: provisioning the same revision again reuses its branch.
    const again = await provisionRevision(ctx, { ...(await rows(created.project.id, followUpId)), parent });
    sandboxes.push(again.sandbox);
    expect(again.dbBranchId).toBe(two.dbBranchId);
  });
});
