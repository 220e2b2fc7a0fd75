import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/server/db/connection";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { createTask } from "@/server/operations/create-task";
import { createFollowUp } from "@/server/revisions/create-revision";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins } from "../helpers/public-site";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// The task routes (`GET|POST /api/v1/projects/:projectId/tasks`) and the promote (`POST /api/v1/revisions/:id/restore`
// with a taskId), called as Next.js calls them with real API tokens: what they refuse, how, and what a new task
// is made of. The build a new task runs is in tasks.test.ts.

// The work a 202 schedules runs after the response (Next's `after`), which exists only inside a request Next.js
// serves: here it is recorded, not run.
const scheduled = vi.hoisted(() => ({ count: 0 }));
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => {
    scheduled.count++;
  },
}));

type Handler = RouteHandler;
type Routes = { tasks: { GET: Handler; POST: Handler }; restore: { POST: Handler } };

/** Freshly imported so their platform is built on this test's database (db/shared-database.ts). */
async function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => {
    const tasks = await import("@/app/api/v1/projects/[projectId]/tasks/route");
    const restore = await import("@/app/api/v1/revisions/[revisionId]/restore/route");
    return { tasks, restore };
  });
}

describe.each(testDatabases)("task routes on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string };
  let adaToken: string;
  let graceToken: string;
  let project: CreatedProject;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "task-routes");
    dataDir = world.dataDir;
    ada = world.ada;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
    project = await createProject(
      t.db,
      ada.id,
      { prompt: "A guestbook", agent: "claude-code" },
      localProviderChoices,
    );
    routes = await loadRoutes(t.db);
    scheduled.count = 0;
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  /** Marks a checkpoint finished with a commit and a database branch (or sets another status). */
  async function settle(revisionId: string, status = "finished", commit = "a".repeat(40)) {
    await t.db
      .updateTable("revision")
      .set(
        status === "finished"
          ? { status, commit_sha: commit, db_branch_id: `dbb_${commit.slice(0, 8)}`, finished_at: Date.now() }
          : { status },
      )
      .where("id", "=", revisionId)
      .execute();
  }

  function call(handler: Handler, url: string, params: Record<string, string>, init: RequestInit = {}) {
    return handler(new Request(`http://kiln.test${url}`, init), { params: Promise.resolve(params) });
  }

  const postTask = (projectId: string, body: unknown, token = adaToken) =>
    call(
      routes.tasks.POST,
      `/api/v1/projects/${projectId}/tasks`,
      { projectId },
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      },
    );
  const listTasks = (projectId: string, token = adaToken) =>
    call(
      routes.tasks.GET,
      `/api/v1/projects/${projectId}/tasks`,
      { projectId },
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
  const restore = (revisionId: string, body: unknown, token = adaToken) =>
    call(
      routes.restore.POST,
      `/api/v1/revisions/${revisionId}/restore`,
      { revisionId },
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
    );

  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  const revisionRow = (id: string) =>
    t.db.selectFrom("revision").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("answers 202 with the task, its first checkpoint and its own share link, built on the named checkpoint", async () => {
    await settle(project.revision.id);
    const response = await postTask(project.project.id, {
      prompt: "Add a dark mode",
      fromRevisionId: project.revision.id,
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      task: { id: string; branch: string };
      revision: { id: string };
      session: { slug: string };
    };
    expect(body).toMatchObject({
      task: {
        title: "Add a dark mode",
        branch: "task/add-a-dark-mode-2",
        isMain: false,
        status: "queued",
        revisionCount: 1,
      },
      revision: {
        ordinal: 1,
        status: "queued",
        kind: "prompt",
        prompt: "Add a dark mode",
        agent: "claude-code",
      },
    });
    expect(body.session.slug).not.toBe(project.session.slug);
    // The build is scheduled after the response, as a follow-up's is.
    expect(scheduled.count).toBe(1);
    const row = await revisionRow(body.revision.id);
    expect({ task: row.task_id, parent: row.parent_revision_id, provider: row.model_provider }).toEqual({
      task: body.task.id,
      parent: project.revision.id,
      provider: (await revisionRow(project.revision.id)).model_provider,
    });
    const session = await t.db
      .selectFrom("session")
      .selectAll()
      .where("slug", "=", body.session.slug)
      .executeTakeFirstOrThrow();
    expect(session.task_id).toBe(body.task.id);

    const listed = await listTasks(project.project.id);
    expect(listed.status).toBe(200);
    const { tasks } = (await listed.json()) as {
      tasks: Array<{ id: string; branch: string; isMain: boolean }>;
    };
    expect(tasks.map((task) => [task.id, task.branch, task.isMain])).toEqual([
      [project.task.id, "main", true],
      [body.task.id, "task/add-a-dark-mode-2", false],
    ]);
  });

  it("starts from the main task's newest finished checkpoint by default, and refuses when there is none", async () => {
    const none = await errorOf(await postTask(project.project.id, { prompt: "Add a dark mode" }));
    expect(none).toMatchObject({ status: 409, code: "conflict:revision_state" });
    expect(none.message).toMatch(/main task has no finished checkpoint yet/);

    await settle(project.revision.id, "finished", "a".repeat(40));
    const second = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: project.project.id,
      taskId: project.task.id,
      prompt: "Add tags",
    });
    await settle(second.id, "finished", "b".repeat(40));
    const third = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: project.project.id,
      taskId: project.task.id,
      prompt: "Add colours",
    });
    await settle(third.id, "failed");
    const response = await postTask(project.project.id, { prompt: "Add a dark mode", title: "Dark" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as {
      task: { title: string; branch: string };
      revision: { id: string };
    };
    expect(body.task).toMatchObject({ title: "Dark", branch: "task/dark-2" });
    expect((await revisionRow(body.revision.id)).parent_revision_id).toBe(second.id);
  });

  it("answers 404 for another operator's project or checkpoint, and for a checkpoint of another project", async () => {
    await settle(project.revision.id);
    const missing = await errorOf(await postTask("prj_0000000000000000", { prompt: "Add a dark mode" }));
    expect(missing).toEqual({ status: 404, code: "not_found:project", message: "Project not found." });
    expect(
      await errorOf(await postTask(project.project.id, { prompt: "Add a dark mode" }, graceToken)),
    ).toEqual(missing);
    expect(await errorOf(await listTasks(project.project.id, graceToken))).toEqual(missing);

    const other = await createProject(t.db, ada.id, { prompt: "A wiki" }, localProviderChoices);
    await settle(other.revision.id);
    const foreign = await errorOf(
      await postTask(project.project.id, { prompt: "Add a dark mode", fromRevisionId: other.revision.id }),
    );
    expect(foreign).toEqual({ status: 404, code: "not_found:revision", message: "Revision not found." });
    expect(
      await errorOf(
        await postTask(project.project.id, {
          prompt: "Add a dark mode",
          fromRevisionId: "rev_0000000000000000",
        }),
      ),
    ).toEqual(foreign);
    expect(await t.db.selectFrom("task").select("id").execute()).toHaveLength(2);
  });

  it("answers 409 for a checkpoint that is not finished or whose database branch was pruned", async () => {
    for (const status of ["generating", "failed"]) {
      await settle(project.revision.id, status);
      expect(
        await errorOf(
          await postTask(project.project.id, {
            prompt: "Add a dark mode",
            fromRevisionId: project.revision.id,
          }),
        ),
      ).toEqual({
        status: 409,
        code: "conflict:revision_state",
        message: `Checkpoint 1 of main is ${status}: a task starts from a finished checkpoint. Wait for it to finish, or pick another.`,
      });
    }
    await settle(project.revision.id);
    const now = Date.now();
    await t.db
      .insertInto("db_branch")
      .values({
        id: "dbb_aaaaaaaa",
        project_id: project.project.id,
        provider: "libsql",
        external_id: "r1",
        name: "r1",
        parent_branch_id: "dbb_main",
        status: "deleted",
        connection_ciphertext: null,
        created_at: now,
        updated_at: now,
        deleted_at: now,
      })
      .execute();
    const pruned = await errorOf(
      await postTask(project.project.id, { prompt: "Add a dark mode", fromRevisionId: project.revision.id }),
    );
    expect(pruned).toMatchObject({ status: 409, code: "conflict:branch_pruned" });
    expect(pruned.message).toMatch(/^Checkpoint 1 cannot be branched into a new task\./);
  });

  it("answers 400 for a malformed body", async () => {
    await settle(project.revision.id);
    for (const body of [{}, { prompt: "x" }, { prompt: "Add a dark mode", extra: true }, { prompt: 5 }]) {
      expect(await errorOf(await postTask(project.project.id, body))).toMatchObject({
        status: 400,
        code: "bad_request:input",
      });
    }
    expect(scheduled.count).toBe(0);
  });

  it("gives every task a branch of its own and keeps running checks per task", async () => {
    await settle(project.revision.id);
    const input = { projectId: project.project.id, prompt: "Add a dark mode" };
    const a = await createTask(t.db, testPreviewOrigins, ada.id, input);
    const b = await createTask(t.db, testPreviewOrigins, ada.id, input);
    expect([a.task.branch, b.task.branch]).toEqual(["task/add-a-dark-mode-2", "task/add-a-dark-mode-3"]);
    // The key behind the names: a task can never share another's branch.
    const duplicate = t.db
      .insertInto("task")
      .values({
        ...(await t.db.selectFrom("task").selectAll().where("id", "=", a.task.id).executeTakeFirstOrThrow()),
        id: "tsk_dup",
      })
      .execute();
    await expect(duplicate).rejects.toThrow();

    // Task a's first checkpoint is queued: the main task is free to run, task a is not.
    const onMain = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: project.project.id,
      taskId: project.task.id,
      prompt: "Add tags",
    });
    expect(onMain).toMatchObject({ ordinal: 2, taskId: project.task.id });
    const busy = await appErrorOf(
      createFollowUp(t.db, testPreviewOrigins, ada.id, {
        projectId: project.project.id,
        taskId: a.task.id,
        prompt: "Darker",
      }),
    );
    expect(busy.message).toMatch(/Checkpoint 1 is still queued/);

    // Its first checkpoint failed before committing: a follow-up builds on what the task started from.
    await settle(a.revision.id, "failed");
    const retry = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      projectId: project.project.id,
      taskId: a.task.id,
      prompt: "Darker",
    });
    expect(retry).toMatchObject({ ordinal: 2, taskId: a.task.id });
    expect((await revisionRow(retry.id)).parent_revision_id).toBe(project.revision.id);
  });

  it("promotes a task's checkpoint onto the main task as a restore, only within the project", async () => {
    await settle(project.revision.id);
    const task = await createTask(t.db, testPreviewOrigins, ada.id, {
      projectId: project.project.id,
      prompt: "Add a dark mode",
    });
    await settle(task.revision.id, "finished", "c".repeat(40));

    const other = await createProject(t.db, ada.id, { prompt: "A wiki" }, localProviderChoices);
    expect(await errorOf(await restore(task.revision.id, { taskId: other.task.id }))).toEqual({
      status: 404,
      code: "not_found:task",
      message: "Task not found.",
    });
    expect(
      await errorOf(await restore(task.revision.id, { taskId: project.task.id }, graceToken)),
    ).toMatchObject({
      status: 404,
      code: "not_found:revision",
    });
    expect(await errorOf(await restore(task.revision.id, { taskId: 5 }))).toMatchObject({
      status: 400,
      code: "bad_request:input",
    });

    const response = await restore(task.revision.id, { taskId: project.task.id });
    expect(response.status).toBe(202);
    const { revision } = (await response.json()) as { revision: { id: string } };
    expect(revision).toMatchObject({
      taskId: project.task.id,
      ordinal: 2,
      kind: "restore",
      prompt: `Promote checkpoint 1 of ${task.task.branch}`,
      restoredFromRevisionId: task.revision.id,
    });
    expect((await revisionRow(revision.id)).parent_revision_id).toBe(task.revision.id);
    expect(scheduled.count).toBe(1);

    // Without a body a restore stays on the checkpoint's own task, as before.
    const own = await restore(project.revision.id, undefined);
    expect(await errorOf(own)).toMatchObject({ status: 409, code: "conflict:revision_state" });
  });
});
