import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { createOperator } from "@/server/auth/operators";
import { type CreateProjectInput, createProject } from "@/server/operations/create-project";
import { deleteProject, getProjectOrThrow, listProjects } from "@/server/projects/project-queries";
import { createFollowUp } from "@/server/revisions/create-revision";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins } from "../helpers/public-site";

/** Crockford base32 as used for ids and share slugs. */
const base32 = /^[0-9abcdefghjkmnpqrstvwxyz]+$/;

const childTables = ["task", "revision", "session", "event", "usage", "sandbox", "db_branch"] as const;

describe.each(testDatabases)("projects on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string };
  let grace: { id: string };

  beforeEach(async () => {
    t = await factory.open();
    const password = "correct horse battery";
    ada = await createOperator(t.db, { email: "ada@example.com", password }, { bcryptCost: 4 });
    grace = await createOperator(t.db, { email: "grace@example.com", password }, { bcryptCost: 4 });
  });
  afterEach(async () => {
    await t.drop();
  });

  function create(userId: string, input: CreateProjectInput, now?: number) {
    return createProject(t.db, userId, input, localProviderChoices, now);
  }

  /** How many rows of each table hang off the project, plus the project row itself. */
  async function footprint(projectId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of childTables) {
      const rows = await t.db
        .selectFrom(table)
        .select("project_id")
        .where("project_id", "=", projectId)
        .execute();
      counts[table] = rows.length;
    }
    const project = await t.db.selectFrom("project").select("id").where("id", "=", projectId).execute();
    counts.project = project.length;
    return counts;
  }

  /** What the pipeline and the sandbox leave behind for a revision: events, usage, a sandbox, a database branch. */
  async function addRuntimeRows(projectId: string, taskId: string, revisionId: string, tag: string) {
    const now = Date.now();
    await t.db
      .insertInto("event")
      .values(
        [1, 2].map((seq) => ({
          project_id: projectId,
          task_id: taskId,
          revision_id: revisionId,
          sandbox_id: `sbx_${tag}`,
          event_id: `evt_${tag}_${seq}`,
          seq,
          type: "log",
          payload: JSON.stringify({ line: `step ${seq}` }),
          created_at: now,
        })),
      )
      .execute();
    await t.db
      .insertInto("usage")
      .values({
        id: `use_${tag}`,
        project_id: projectId,
        revision_id: revisionId,
        provider: "openai",
        model: "gpt-4o",
        input_tokens: 1200,
        output_tokens: 300,
        cached_tokens: 0,
        cost_usd_micros: 4500,
        created_at: now,
      })
      .execute();
    await t.db
      .insertInto("sandbox")
      .values({
        id: `sbx_${tag}`,
        project_id: projectId,
        provider: "local",
        external_id: null,
        status: "running",
        webhook_secret_ciphertext: "v1.aaaa.bbbb.cccc",
        preview_url: "http://127.0.0.1:4100",
        last_event_at: now,
        created_at: now,
        updated_at: now,
        stopped_at: null,
      })
      .execute();
    await t.db
      .insertInto("db_branch")
      .values({
        id: `dbb_${tag}`,
        project_id: projectId,
        provider: "libsql",
        external_id: `branch-${tag}`,
        name: "main",
        parent_branch_id: null,
        status: "ready",
        connection_ciphertext: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
  }

  it("records the project with its first task, a queued revision holding the prompt, and a share link", async () => {
    const prompt = "Build a todo app\n\nwith tags and due dates";
    const now = Date.now();
    const created = await create(ada.id, { prompt, agent: "claude-code", model: "claude-sonnet-4-5" }, now);

    expect(created.project).toMatchObject({
      name: "Build a todo app with tags and due dates",
      slug: "build-a-todo-app-with-tags-and-due-dates",
      agent: "claude-code",
      model: "claude-sonnet-4-5",
      status: "queued",
      providers: localProviderChoices,
      createdAt: now,
    });
    expect(created.revision).toMatchObject({ ordinal: 1, status: "queued" });

    const tasks = await t.db
      .selectFrom("task")
      .selectAll()
      .where("project_id", "=", created.project.id)
      .execute();
    expect(tasks).toEqual([
      expect.objectContaining({
        id: created.task.id,
        title: "Build a todo app with tags and due dates",
        branch: "main",
        status: "queued",
      }),
    ]);

    const revisions = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("project_id", "=", created.project.id)
      .execute();
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({
      id: created.revision.id,
      task_id: created.task.id,
      ordinal: 1,
      kind: "prompt",
      status: "queued",
      prompt,
      agent: "claude-code",
      model: "claude-sonnet-4-5",
    });

    const sessions = await t.db
      .selectFrom("session")
      .selectAll()
      .where("project_id", "=", created.project.id)
      .execute();
    expect(sessions).toEqual([
      expect.objectContaining({ slug: created.session.slug, task_id: created.task.id, revoked_at: null }),
    ]);
    // At least 26 base32 characters = at least 128 random bits in a public link.
    expect(created.session.slug).toMatch(base32);
    expect(created.session.slug.length).toBeGreaterThanOrEqual(26);
  });

  it("keeps a prompt of the maximum length whole", async () => {
    const prompt = `Build ${"a very detailed spec ".repeat(1000)}`.slice(0, 20_000).trimEnd();
    const created = await create(ada.id, { prompt });
    const revision = await t.db
      .selectFrom("revision")
      .select("prompt")
      .where("id", "=", created.revision.id)
      .executeTakeFirstOrThrow();
    expect(revision.prompt).toBe(prompt);
  });

  it("uses the operator's name and provider choices over the defaults", async () => {
    const created = await create(ada.id, { prompt: "a CRM", name: "Acme CRM", providers: { git: "github" } });
    expect(created.project).toMatchObject({
      name: "Acme CRM",
      slug: "acme-crm",
      agent: "codex",
      model: null,
      providers: { ...localProviderChoices, git: "github" },
    });
  });

  it("gives every share link its own slug", async () => {
    const slugs = new Set<string>();
    for (let i = 0; i < 5; i++) slugs.add((await create(ada.id, { prompt: "a todo app" })).session.slug);
    expect(slugs.size).toBe(5);
  });

  it("keeps project slugs unique per operator, but lets two operators use the same one", async () => {
    const slugs: string[] = [];
    for (let i = 0; i < 3; i++)
      slugs.push((await create(ada.id, { prompt: "Build a todo app" })).project.slug);
    expect(slugs).toEqual(["build-a-todo-app", "build-a-todo-app-2", "build-a-todo-app-3"]);
    expect((await create(grace.id, { prompt: "Build a todo app" })).project.slug).toBe("build-a-todo-app");
  });

  it("still finds a free slug after many projects with the same name", async () => {
    const slugs: string[] = [];
    for (let i = 0; i < 7; i++) slugs.push((await create(ada.id, { prompt: "x app" })).project.slug);
    expect(new Set(slugs).size).toBe(7);
    expect(slugs.slice(0, 5)).toEqual(["x-app", "x-app-2", "x-app-3", "x-app-4", "x-app-5"]);
    for (const slug of slugs.slice(5)) expect(slug).toMatch(/^x-app-[0-9a-z]+$/);
  });

  it("creates two projects at once", async () => {
    const [first, second] = await Promise.all([
      create(ada.id, { prompt: "Build a todo app" }),
      create(grace.id, { prompt: "Build a CRM" }),
    ]);
    expect((await listProjects(t.db, ada.id)).map((project) => project.id)).toEqual([first.project.id]);
    expect((await listProjects(t.db, grace.id)).map((project) => project.id)).toEqual([second.project.id]);
  });

  it("creates both projects when the same prompt is submitted twice at once", async () => {
    const [first, second] = await Promise.all([
      create(ada.id, { prompt: "Build a todo app" }),
      create(ada.id, { prompt: "Build a todo app" }),
    ]);
    expect([first.project.slug, second.project.slug].sort()).toEqual([
      "build-a-todo-app",
      "build-a-todo-app-2",
    ]);
    expect(await listProjects(t.db, ada.id)).toHaveLength(2);
  });

  it("lists only the operator's own projects, most recently active first", async () => {
    const t0 = Date.now();
    const older = await create(ada.id, { prompt: "an older app" }, t0);
    const newer = await create(ada.id, { prompt: "a newer app" }, t0 + 1000);
    const theirs = await create(grace.id, { prompt: "grace's app" }, t0 + 2000);

    const listed = await listProjects(t.db, ada.id);
    expect(listed.map((project) => project.id)).toEqual([newer.project.id, older.project.id]);
    expect(listed[0]).toMatchObject({ name: "a newer app", status: "queued", taskCount: 1 });
    expect((await listProjects(t.db, grace.id)).map((project) => project.id)).toEqual([theirs.project.id]);
    const nobody = await createOperator(
      t.db,
      { email: "nobody@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    expect(await listProjects(t.db, nobody.id)).toEqual([]);
  });

  it("project cards carry the newest screenshot and usage totals over every checkpoint", async () => {
    const created = await create(ada.id, { prompt: "an app with usage" });
    const [card] = await listProjects(t.db, ada.id);
    expect(card).toMatchObject({
      screenshotUrl: null,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    });

    const first = created.revision;
    // The first checkpoint finished (with a screenshot); a follow-up is the second.
    await t.db
      .updateTable("revision")
      .set({
        status: "finished",
        commit_sha: "a".repeat(40),
        input_tokens: 1_200,
        output_tokens: 300,
        cost_usd_micros: 25_000,
        screenshot_key: `screenshots/${first.id}.png`,
      })
      .where("id", "=", first.id)
      .execute();
    const later = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: created.project.id,
      taskId: created.task.id,
      prompt: "and a second checkpoint",
    });
    await t.db
      .updateTable("revision")
      .set({ input_tokens: 800, output_tokens: 200, cost_usd_micros: 15_000 })
      .where("id", "=", later.id)
      .execute();

    const [updated] = await listProjects(t.db, ada.id);
    expect(updated).toMatchObject({
      // The second checkpoint has no screenshot yet: the card keeps the newest one there is.
      screenshotUrl: `/api/v1/revisions/${first.id}/screenshot`,
      usage: { inputTokens: 2_000, outputTokens: 500, costUsd: 0.04 },
    });
  });

  it("shows the owner a project with its task", async () => {
    const prompt = "Build a todo app";
    const created = await create(ada.id, { prompt });
    const shown = await getProjectOrThrow(t.db, ada.id, created.project.id);
    expect(shown.project).toMatchObject(created.project);
    expect(shown.project.card).toEqual({ state: "building", label: "Building", note: "Waiting to start…" });
    expect(shown.tasks).toEqual([
      expect.objectContaining({
        id: created.task.id,
        title: "Build a todo app",
        branch: "main",
        status: "queued",
        revisionCount: 1,
        latestPrompt: prompt,
      }),
    ]);
  });

  it("the project page reads a working app whose latest change failed as live, like its card", async () => {
    const created = await create(ada.id, { prompt: "Build a todo app" });
    await t.db
      .updateTable("revision")
      .set({ status: "finished", commit_sha: "a".repeat(40) })
      .where("id", "=", created.revision.id)
      .execute();
    const later = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: created.project.id,
      taskId: created.task.id,
      prompt: "add due dates",
    });
    await t.db.updateTable("revision").set({ status: "failed" }).where("id", "=", later.id).execute();
    const { project } = await getProjectOrThrow(t.db, ada.id, created.project.id);
    const [card] = await listProjects(t.db, ada.id);
    expect(project.card).toEqual(card?.card);
    expect(project.card.state).toBe("live");
  });

  it("answers not_found for another operator's project, exactly as for a missing one", async () => {
    const created = await create(ada.id, { prompt: "Build a todo app" });
    const foreign = await appErrorOf(getProjectOrThrow(t.db, grace.id, created.project.id));
    const missing = await appErrorOf(getProjectOrThrow(t.db, grace.id, "prj_doesnotexist"));
    expect(foreign.code).toBe("not_found:project");
    expect(foreign.status).toBe(404);
    expect(foreign.message).toBe(missing.message);
  });

  it("does not let another operator delete a project, and leaves every row of it in place", async () => {
    const created = await create(ada.id, { prompt: "Build a todo app" });
    await addRuntimeRows(created.project.id, created.task.id, created.revision.id, "a");
    const before = await footprint(created.project.id);

    expect((await appErrorOf(deleteProject(t.db, grace.id, created.project.id))).code).toBe(
      "not_found:project",
    );
    expect(await footprint(created.project.id)).toEqual(before);
    expect((await getProjectOrThrow(t.db, ada.id, created.project.id)).project.id).toBe(created.project.id);
  });

  it("deletes a project with every row that hangs off it, and nothing of its siblings", async () => {
    const doomed = await create(ada.id, { prompt: "Build a todo app" });
    const sibling = await create(ada.id, { prompt: "Build a CRM" });
    await addRuntimeRows(doomed.project.id, doomed.task.id, doomed.revision.id, "doomed");
    await addRuntimeRows(sibling.project.id, sibling.task.id, sibling.revision.id, "sibling");
    expect(await footprint(doomed.project.id)).toEqual({
      task: 1,
      revision: 1,
      session: 1,
      event: 2,
      usage: 1,
      sandbox: 1,
      db_branch: 1,
      project: 1,
    });
    const siblingBefore = await footprint(sibling.project.id);

    await deleteProject(t.db, ada.id, doomed.project.id);

    expect(await footprint(doomed.project.id)).toEqual({
      task: 0,
      revision: 0,
      session: 0,
      event: 0,
      usage: 0,
      sandbox: 0,
      db_branch: 0,
      project: 0,
    });
    expect(await footprint(sibling.project.id)).toEqual(siblingBefore);
    expect((await listProjects(t.db, ada.id)).map((project) => project.id)).toEqual([sibling.project.id]);
    expect((await appErrorOf(getProjectOrThrow(t.db, ada.id, doomed.project.id))).code).toBe(
      "not_found:project",
    );
    expect((await appErrorOf(deleteProject(t.db, ada.id, doomed.project.id))).code).toBe("not_found:project");
  });

  it.each([
    ["prompt", { prompt: "" }],
    ["prompt", { prompt: "  ab  " }],
    ["prompt", { prompt: "x".repeat(20_001) }],
    ["agent", { prompt: "Build a todo app", agent: "gpt-engineer" }],
    ["providers.git", { prompt: "Build a todo app", providers: { git: "gitlab" } }],
    ["providers.database", { prompt: "Build a todo app", providers: { database: "postgres" } }],
  ])("refuses input with a bad %s and stores nothing", async (field, input) => {
    // The input comes from outside (a form, the REST API): its type is not trusted.
    const error = await rejectionOf(
      createProject(t.db, ada.id, input as CreateProjectInput, localProviderChoices),
    );
    expect(error).toBeInstanceOf(ZodError);
    if (!(error instanceof ZodError)) return;
    expect(error.issues.map((issue) => issue.path.join("."))).toEqual([field]);
    expect(await t.db.selectFrom("project").select("id").execute()).toEqual([]);
    expect(await t.db.selectFrom("revision").select("id").execute()).toEqual([]);
  });
});
