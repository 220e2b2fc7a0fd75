import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/server/db/connection";
import { type CreateProjectInput, createProject } from "@/server/operations/create-project";
import { loadRevision } from "@/server/pipeline/pipeline-deps";
import { planStep } from "@/server/pipeline/steps/plan";
import type { Plan } from "@/server/planner/plan-schema";
import { getProjectOrThrow, listProjects } from "@/server/projects/project-queries";
import { renameProject, renameProjectInputSchema } from "@/server/projects/rename-project";
import { createFollowUp } from "@/server/revisions/create-revision";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins } from "../helpers/public-site";
import { closeRouteWorld, importRoutesOn, type RouteHandler, twoOperators } from "../helpers/route-world";

// The dashboard's reads and the rename, through the domain functions and through the REST routes themselves
// (`src/app/api/v1/projects/…`, called as Next.js calls them, authenticated by a real API token).

type Handler = RouteHandler;
type Routes = { project: { GET: Handler; PATCH: Handler }; projects: { GET: Handler } };

/**
 * The route modules, freshly imported so their platform is built for this test's database: the process-wide pool
 * holder (db/shared-database.ts) is the one place the platform takes its database from.
 */
async function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => {
    const project = await import("@/app/api/v1/projects/[projectId]/route");
    const projects = await import("@/app/api/v1/projects/route");
    return { project, projects };
  });
}

describe.each(testDatabases)("the dashboard's projects on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string };
  let grace: { id: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    ({ ada, grace, adaToken, graceToken } = await twoOperators(t.db));
  });
  afterEach(async () => {
    closeRouteWorld(undefined);
    await t.drop();
  });

  function create(userId: string, input: CreateProjectInput, now?: number) {
    return createProject(t.db, userId, input, localProviderChoices, now);
  }

  async function setStatus(revisionId: string, status: string, extra: { commit_sha?: string } = {}) {
    await t.db
      .updateTable("revision")
      .set({ status, ...extra })
      .where("id", "=", revisionId)
      .execute();
  }

  async function nameOf(projectId: string): Promise<string> {
    const row = await t.db
      .selectFrom("project")
      .select("name")
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    return row.name;
  }

  function call(handler: Handler, url: string, init: RequestInit & { token?: string }, projectId?: string) {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    return handler(new Request(`http://kiln.test${url}`, { ...init, headers }), {
      params: Promise.resolve<Record<string, string>>(projectId ? { projectId } : {}),
    });
  }

  function patchName(routes: Routes, projectId: string, body: string, token: string) {
    return call(
      routes.project.PATCH,
      `/api/v1/projects/${projectId}`,
      { method: "PATCH", body, token, headers: { "content-type": "application/json" } },
      projectId,
    );
  }

  describe("card status", () => {
    it("a working app whose latest follow-up failed is live, with a note that the change failed", async () => {
      const created = await create(ada.id, { prompt: "A guestbook" });
      await setStatus(created.revision.id, "finished", { commit_sha: "a".repeat(40) });
      const followUp = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "add a dark mode",
      });
      await setStatus(followUp.id, "failed");

      const [card] = await listProjects(t.db, ada.id);
      expect(card?.card).toEqual({
        state: "live",
        label: "Live",
        note: "The latest change failed; the last working version is live.",
      });
    });

    it("a running follow-up on a working app is building, and the live version stays up", async () => {
      const created = await create(ada.id, { prompt: "A guestbook" });
      await setStatus(created.revision.id, "finished", { commit_sha: "a".repeat(40) });
      const followUp = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
        projectId: created.project.id,
        taskId: created.task.id,
        prompt: "add a dark mode",
      });
      await setStatus(followUp.id, "generating");

      const [card] = await listProjects(t.db, ada.id);
      expect(card?.card).toEqual({
        state: "building",
        label: "Building",
        note: "Writing code… The live version stays up.",
      });
    });

    it("an app that never finished shows its failure; a new one is building", async () => {
      const failed = await create(ada.id, { prompt: "A failing app" }, Date.now() - 1000);
      await setStatus(failed.revision.id, "failed");
      await create(ada.id, { prompt: "A queued app" });

      const cards = await listProjects(t.db, ada.id);
      expect(cards.map((card) => [card.name, card.card.label, card.card.note])).toEqual([
        ["A queued app", "Building", "Waiting to start…"],
        ["A failing app", "Failed", null],
      ]);
    });

    it("a card opens the workspace of the project's first task", async () => {
      const created = await create(ada.id, { prompt: "A guestbook" });
      const [card] = await listProjects(t.db, ada.id);
      expect(card?.mainTaskId).toBe(created.task.id);
    });
  });

  describe("search", () => {
    it("keeps the operator's projects whose name contains the words, in any case, and only theirs", async () => {
      const t0 = Date.now();
      await create(ada.id, { prompt: "an app", name: "Guestbook for the office" }, t0);
      await create(ada.id, { prompt: "an app", name: "Habit tracker" }, t0 + 1);
      await create(ada.id, { prompt: "an app", name: "Wedding GUESTBOOK" }, t0 + 2);
      await create(grace.id, { prompt: "an app", name: "Grace's guestbook" }, t0 + 3);

      const names = async (nameContains: string) =>
        (await listProjects(t.db, ada.id, { nameContains })).map((project) => project.name);
      expect(await names("guestbook")).toEqual(["Wedding GUESTBOOK", "Guestbook for the office"]);
      expect(await names("  Habit ")).toEqual(["Habit tracker"]);
      expect(await names("")).toHaveLength(3);
      expect(await names("nothing like it")).toEqual([]);
    });

    it("matches %, _ and ! literally, and words beyond ASCII", async () => {
      await create(ada.id, { prompt: "an app", name: "100% uptime" });
      await create(ada.id, { prompt: "an app", name: "snake_case tool" });
      await create(ada.id, { prompt: "an app", name: "Hello! board" });
      await create(ada.id, { prompt: "an app", name: "plain name" });
      await create(ada.id, { prompt: "an app", name: "École board" });

      const names = async (nameContains: string) =>
        (await listProjects(t.db, ada.id, { nameContains })).map((project) => project.name);
      expect(await names("%")).toEqual(["100% uptime"]);
      expect(await names("e_c")).toEqual(["snake_case tool"]);
      expect(await names("_")).toEqual(["snake_case tool"]);
      expect(await names("!")).toEqual(["Hello! board"]);
      expect(await names("École")).toEqual(["École board"]);
    });

    it("GET /api/v1/projects?q= filters by name", async () => {
      await create(ada.id, { prompt: "an app", name: "Guestbook" });
      await create(ada.id, { prompt: "an app", name: "Habit tracker" });
      const routes = await loadRoutes(t.db);

      const response = await call(routes.projects.GET, "/api/v1/projects?q=GUEST", { token: adaToken });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { projects: { name: string; card: { label: string } }[] };
      expect(body.projects.map((project) => project.name)).toEqual(["Guestbook"]);
      expect(body.projects[0]?.card.label).toBe("Building");

      const tooLong = await call(routes.projects.GET, `/api/v1/projects?q=${"a".repeat(121)}`, {
        token: adaToken,
      });
      expect(tooLong.status).toBe(400);
      expect(((await tooLong.json()) as { error: { message: string } }).error.message).toBe(
        "q: Keep the search to 120 characters or fewer",
      );
    });
  });

  describe("rename", () => {
    it("renames the operator's project, in one line, and leaves its slug", async () => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const name = renameProjectInputSchema.parse({ name: "  Office\n guestbook  " }).name;
      expect(await renameProject(t.db, ada.id, created.project.id, name)).toEqual({
        id: created.project.id,
        name: "Office guestbook",
      });
      const { project } = await getProjectOrThrow(t.db, ada.id, created.project.id);
      expect(project).toMatchObject({ name: "Office guestbook", slug: "build-a-guestbook" });
      expect((await listProjects(t.db, ada.id, { nameContains: "office" })).map((p) => p.id)).toEqual([
        created.project.id,
      ]);
    });

    it("another operator's project is not_found, exactly like a missing one, and keeps its name", async () => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const foreign = await appErrorOf(renameProject(t.db, grace.id, created.project.id, "Mine now"));
      const missing = await appErrorOf(renameProject(t.db, grace.id, "prj_doesnotexist", "Mine now"));
      expect(foreign.code).toBe("not_found:project");
      expect(foreign.status).toBe(404);
      expect(foreign.message).toBe(missing.message);
      expect(await nameOf(created.project.id)).toBe("Build a guestbook");
    });

    it("a rename made while the app is planned outlives the plan's title; otherwise the title names it", async () => {
      const plan: Plan = {
        title: "Planner's Title",
        slug: "planners-title",
        steps: ["Build it"],
        agentPrompt: "Build a guestbook.",
      };
      // The planner is a model call: here it answers at once with a fixed plan.
      const deps = { db: t.db, plan: async () => plan };
      async function planned(projectName: string | null) {
        const created = await create(ada.id, { prompt: "Build a guestbook" });
        const scope = {
          db: t.db,
          projectId: created.project.id,
          taskId: created.task.id,
          revisionId: created.revision.id,
        };
        const loaded = await loadRevision(t.db, created.revision.id);
        if (!loaded) throw new Error("revision not found");
        // The operator renames after the run loaded the project, before the planner answered.
        if (projectName) await renameProject(t.db, ada.id, created.project.id, projectName);
        expect(await planStep(deps, scope, loaded)).toEqual(plan);
        const { project, tasks } = await getProjectOrThrow(t.db, ada.id, created.project.id);
        return { project: project.name, task: tasks[0]?.title };
      }
      expect(await planned("Lobby guestbook")).toEqual({
        project: "Lobby guestbook",
        task: "Planner's Title",
      });
      expect(await planned(null)).toEqual({ project: "Planner's Title", task: "Planner's Title" });
    });

    it("PATCH /api/v1/projects/:id renames and answers with the project", async () => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const routes = await loadRoutes(t.db);

      const response = await patchName(
        routes,
        created.project.id,
        JSON.stringify({ name: "Lobby guestbook" }),
        adaToken,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { project: { id: string; name: string }; tasks: unknown[] };
      expect(body.project).toMatchObject({ id: created.project.id, name: "Lobby guestbook" });
      expect(body.tasks).toHaveLength(1);
      expect(await nameOf(created.project.id)).toBe("Lobby guestbook");

      const read = await call(
        routes.project.GET,
        `/api/v1/projects/${created.project.id}`,
        { token: adaToken },
        created.project.id,
      );
      expect(((await read.json()) as { project: { name: string } }).project.name).toBe("Lobby guestbook");
    });

    it.each([
      ["an empty name", { name: "   " }, "name: Name the project"],
      ["nothing to change", {}, "Send a name, budgetTokens or budgetUsd"],
      ["a name that is not text", { name: 42 }, "name: Name the project"],
      ["a name too long", { name: "x".repeat(121) }, "name: Keep the name to 120 characters or fewer"],
      ["a field it does not know", { name: "Fine", slug: "other" }, 'Unrecognized key: "slug"'],
    ])("PATCH with %s is a 400 that says what is wrong, and renames nothing", async (_, input, message) => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const routes = await loadRoutes(t.db);

      const response = await patchName(routes, created.project.id, JSON.stringify(input), adaToken);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("bad_request:input");
      expect(error.message).toBe(message);
      expect(await nameOf(created.project.id)).toBe("Build a guestbook");
    });

    it("PATCH with a body that is not JSON is a 400", async () => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const routes = await loadRoutes(t.db);
      const response = await patchName(routes, created.project.id, "{name:", adaToken);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("bad_request:json");
    });

    it("PATCH on another operator's project is a 404, and its name stays", async () => {
      const created = await create(ada.id, { prompt: "Build a guestbook" });
      const routes = await loadRoutes(t.db);

      const foreign = await patchName(
        routes,
        created.project.id,
        JSON.stringify({ name: "Mine now" }),
        graceToken,
      );
      expect(foreign.status).toBe(404);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe("not_found:project");
      const badToken = await patchName(
        routes,
        created.project.id,
        JSON.stringify({ name: "Mine now" }),
        "kiln_not-a-token",
      );
      expect(badToken.status).toBe(401);
      expect(await nameOf(created.project.id)).toBe("Build a guestbook");
    });
  });
});
