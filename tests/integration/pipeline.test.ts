import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import { providersFor } from "@/server/integrations/registry";
import { type PipelineDeps, runRevision } from "@/server/pipeline/run-revision";
import { isTerminal } from "@/server/pipeline/state-machine";
import { decryptBranchConnection } from "@/server/pipeline/steps/provision";
import { planApp } from "@/server/planner/plan-app";
import { createProject } from "@/server/projects/create-project";
import { createFollowUp, createRestore } from "@/server/revisions/create-revision";
import { buildRunnerBundle } from "@/server/runner-bundle/build-runner";
import { loadScenario, type ModelServer, startModelServer } from "../fakes/model-server";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { type PlatformServer, startPlatformServer } from "../helpers/platform-server";
import { TEMPLATE_DIR, templateCache } from "../helpers/template";
import { toolchainCacheRoot } from "../helpers/toolchains";

// The whole pipeline for real on local adapters: the planner and the REAL Codex CLI talk to a scripted model through
// Kiln's gateway; the runner in a bubblewrap sandbox migrates, builds, commits (handed back as a bundle) and starts
// the preview; the webhook drives the revision to "finished".

const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" } as const;
const apiKey = "sk-operator-pipeline-key-0001";

describe("the pipeline, end to end on local adapters", { timeout: 600_000 }, () => {
  let t: TestDatabase;
  let dataDir: string;
  let models: ModelServer;
  let platform: PlatformServer;
  let deps: PipelineDeps;
  let userId: string;

  beforeAll(async () => {
    const libsql = testDatabases[0];
    if (!libsql) throw new Error("no test database");
    t = await libsql.open();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-"));
    const plan = loadScenario("plan-todo");
    const agent = loadScenario("codex-todo-app");
    models = await startModelServer({
      scenario: { ...agent, name: "pipeline-codex-todo", turns: [...plan.turns, ...agent.turns] },
      auth: { bearer: apiKey },
    });
    const key = randomBytes(32);
    const credentials: CredentialContext = {
      key,
      endpoints: {
        githubApiUrl: "http://127.0.0.1:1",
        vercelApiUrl: "http://127.0.0.1:1",
        tidbCloudApiUrl: "http://127.0.0.1:1",
        openaiBaseUrl: models.openaiBaseUrl,
        anthropicBaseUrl: models.url,
      },
      platformDefaults: {},
    };
    userId = (
      await createOperator(
        t.db,
        { email: "ops@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
    await saveCredential(t.db, credentials, userId, {
      kind: "openai",
      apiKey,
      baseUrl: models.openaiBaseUrl,
    });
    const providers = providersFor(
      local,
      {
        dataDir,
        platformRoot: process.cwd(),
        githubApiUrl: "",
        vercelApiUrl: "",
        tidbCloudApiUrl: "",
        branchesMysqlUrl: undefined,
        blobToken: undefined,
      },
      {},
    );
    platform = await startPlatformServer({
      db: t.db,
      credentials,
      runner: { db: t.db, providersFor: async () => providers },
    });
    const runner = buildRunnerBundle(path.join(dataDir, "runner"));
    deps = {
      db: t.db,
      key,
      providers,
      templateDir: TEMPLATE_DIR,
      templateCacheRoot: path.dirname((await templateCache()).dir),
      toolchainsRoot: toolchainCacheRoot(),
      sandboxTimeoutMs: 900_000,
      publicUrl: platform.url,
      runTokenTtlMs: 900_000,
      runnerBundle: () => runner,
      plan: ({ prompt }) =>
        planApp({ prompt, provider: "openai", model: "gpt-5.5", apiKey, baseUrl: models.openaiBaseUrl }),
    };
  });

  afterAll(async () => {
    const sandboxes = await t?.db.selectFrom("sandbox").select("external_id").execute();
    for (const row of sandboxes ?? []) {
      if (row.external_id) await (await deps.providers.sandboxes.get(row.external_id))?.stop();
    }
    await platform?.close();
    await models?.close();
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function waitForEnd(revisionId: string) {
    const deadline = Date.now() + 480_000;
    for (;;) {
      const revision = await t.db
        .selectFrom("revision")
        .selectAll()
        .where("id", "=", revisionId)
        .executeTakeFirstOrThrow();
      if (isTerminal(revision.status)) return revision;
      if (Date.now() > deadline) throw new Error(`still ${revision.status} after 8 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  let first: { projectId: string; taskId: string; revisionId: string } | undefined;

  /** A libSQL client on a revision's own database branch, through the connection the platform stored for it. */
  async function onBranch<T>(
    revisionId: string,
    work: (client: ReturnType<typeof createClient>) => Promise<T>,
  ): Promise<T> {
    const revision = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", revisionId)
      .executeTakeFirstOrThrow();
    const branch = await t.db
      .selectFrom("db_branch")
      .selectAll()
      .where("id", "=", revision.db_branch_id ?? "")
      .executeTakeFirstOrThrow();
    const connection = decryptBranchConnection(deps.key, branch.id, branch.connection_ciphertext ?? "");
    const client = createClient({ url: connection.databaseUrl });
    try {
      return await work(client);
    } finally {
      client.close();
    }
  }

  const columnsOf = (revisionId: string, table: string) =>
    onBranch(revisionId, async (client) =>
      (await client.execute(`PRAGMA table_info(${table})`)).rows.map((row) => String(row.name)),
    );

  const execOnBranch = (revisionId: string, sql: string) =>
    onBranch(revisionId, async (client) => {
      const result = await client.execute(sql);
      return Number(result.rows[0]?.[0] ?? result.rowsAffected);
    });

  it("turns 'build a todo app' into a committed, previewed app with its own database branch", async () => {
    const created = await createProject(t.db, userId, { prompt: "build a todo app", agent: "codex" }, local);
    first = { projectId: created.project.id, taskId: created.task.id, revisionId: created.revision.id };
    await runRevision(deps, created.revision.id);
    const revision = await waitForEnd(created.revision.id);
    const events = await t.db
      .selectFrom("event")
      .select(["type", "payload"])
      .where("revision_id", "=", revision.id)
      .orderBy("seq")
      .orderBy("id")
      .execute();
    expect(platform.errors).toEqual([]);
    expect({ status: revision.status, error: revision.error_message }).toEqual({
      status: "finished",
      error: null,
    });

    const types = events.map((event) => event.type);
    for (const type of ["plan", "agent.command", "runner.committed", "runner.preview", "runner.finished"]) {
      expect(types, type).toContain(type);
    }
    const project = await t.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", created.project.id)
      .executeTakeFirstOrThrow();
    expect(project.name).toBe("Todo List");

    // The commit: on the repository's main branch, holding the agent's page and migration.
    const repo = {
      host: "local" as const,
      fullName: project.repo_full_name ?? "",
      webUrl: project.repo_url ?? "",
      defaultBranch: "main",
    };
    expect(await deps.providers.git.resolveRef(repo, "main")).toBe(revision.commit_sha);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pipeline-export-"));
    await deps.providers.git.exportTree(repo, revision.commit_sha ?? "", exported);
    expect(
      fs.readdirSync(path.join(exported, "migrations")).some((file) => file.includes("create_todos")),
    ).toBe(true);
    fs.rmSync(exported, { recursive: true, force: true });

    // The preview answers with the todo UI.
    expect(revision.preview_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(revision.preview_url ?? "");
    expect(page.status).toBe(200);
    expect((await page.text()).toLowerCase()).toContain("todo");

    // The table exists in this revision's branch.
    const branch = await t.db
      .selectFrom("db_branch")
      .selectAll()
      .where("id", "=", revision.db_branch_id ?? "")
      .executeTakeFirstOrThrow();
    const connection = decryptBranchConnection(deps.key, branch.id, branch.connection_ciphertext ?? "");
    const client = createClient({ url: connection.databaseUrl });
    const tables = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'");
    client.close();
    expect(tables.rows.map((row) => String(row.name))).toContain("todos");

    // Tokens went through the gateway and were counted against the revision.
    expect(Number(revision.input_tokens)).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(apiKey);
  });

  it("a follow-up adds a column on a new branch; restoring checkpoint 1 brings back its code and data", async () => {
    if (!first) throw new Error("the first build did not run");
    models.useScenario(loadScenario("codex-add-username"));
    const followUp = await createFollowUp(t.db, userId, {
      projectId: first.projectId,
      taskId: first.taskId,
      prompt: "add a username field",
    });
    await runRevision(deps, followUp.id);
    const second = await waitForEnd(followUp.id);
    expect({ status: second.status, error: second.error_message }).toEqual({
      status: "finished",
      error: null,
    });
    expect(second.parent_revision_id).toBe(first.revisionId);
    expect(await columnsOf(second.id, "todos")).toContain("username");
    expect(await columnsOf(first.revisionId, "todos")).not.toContain("username");
    // The agent resumed its session from checkpoint 1 (the runner reports the same session id).
    const sessions = await t.db
      .selectFrom("event")
      .select(["revision_id", "payload"])
      .where("type", "=", "agent.session")
      .execute();
    const sessionOf = (id: string) =>
      sessions.filter((e) => e.revision_id === id).map((e) => JSON.parse(e.payload).sessionId);
    expect(sessionOf(second.id)[0]).toBe(sessionOf(first.revisionId)[0]);

    // Data written after checkpoint 1, in checkpoint 2's branch.
    await execOnBranch(
      second.id,
      "INSERT INTO todos (title, username, created_at) VALUES ('written later', 'ada', '2026-11-20T00:00:00Z')",
    );
    expect(await execOnBranch(second.id, "SELECT COUNT(*) FROM todos WHERE title = 'written later'")).toBe(1);

    const restore = await createRestore(t.db, userId, first.revisionId);
    await runRevision(deps, restore.id);
    const third = await waitForEnd(restore.id);
    expect({ status: third.status, error: third.error_message }).toEqual({ status: "finished", error: null });
    expect(third.restored_from_revision_id).toBe(first.revisionId);
    expect(await columnsOf(third.id, "todos")).not.toContain("username");
    expect(await execOnBranch(third.id, "SELECT COUNT(*) FROM todos WHERE title = 'written later'")).toBe(0);

    // The code: a new commit on top of checkpoint 2 whose files are checkpoint 1's.
    const firstRow = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", first.revisionId)
      .executeTakeFirstOrThrow();
    const project = await t.db
      .selectFrom("project")
      .selectAll()
      .where("id", "=", first.projectId)
      .executeTakeFirstOrThrow();
    const repo = {
      host: "local" as const,
      fullName: project.repo_full_name ?? "",
      webUrl: project.repo_url ?? "",
      defaultBranch: "main",
    };
    expect(await deps.providers.git.resolveRef(repo, "main")).toBe(third.commit_sha);
    expect(third.commit_sha).not.toBe(firstRow.commit_sha);
    const exported = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-restore-export-"));
    await deps.providers.git.exportTree(repo, third.commit_sha ?? "", exported);
    expect(fs.readdirSync(path.join(exported, "migrations")).some((file) => file.includes("username"))).toBe(
      false,
    );
    fs.rmSync(exported, { recursive: true, force: true });
    const page = await fetch(third.preview_url ?? "");
    expect(page.status).toBe(200);
  });
});
