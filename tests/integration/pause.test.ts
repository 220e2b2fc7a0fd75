import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseEnv } from "@/server/config/env-schema";
import type { Database } from "@/server/db/connection";
import { type GatewayDeps, handleGatewayRequest } from "@/server/gateway/proxy";
import { issueRunToken } from "@/server/gateway/run-token";
import { pauseReader } from "@/server/governance/pause-state";
import { createProject } from "@/server/operations/create-project";
import { pausePlatform } from "@/server/operations/pause-platform";
import { resumePlatform } from "@/server/operations/resume-platform";
import { carryOn } from "@/server/pipeline/carry-on";
import { wirePlatform } from "@/server/platform/wire-platform";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";
import { waitUntil } from "../helpers/wait-until";

// The kill switch (issue 11): an admin pauses all agent work; running revisions of every operator are cancelled with
// the reason (event recorded, sandbox stopped), new work gets 503 `paused`, the gateway refuses runs, every app
// server (sharing only the database) notices within its cache window, carry-on never resumes paused work, and
// DELETE resumes.

// The pipeline a created revision would start after the response needs Next's request scope and is not the
// subject here: what the requests decide is.
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => undefined,
}));

type Handler = RouteHandler;
type Routes = {
  pause: { GET: Handler; POST: Handler; DELETE: Handler };
  projects: { POST: Handler };
  followUps: { POST: Handler };
  tasks: { POST: Handler };
};

function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => ({
    pause: await import("@/app/api/v1/admin/pause/route"),
    projects: await import("@/app/api/v1/projects/route"),
    followUps: await import("@/app/api/v1/projects/[projectId]/tasks/[taskId]/revisions/route"),
    tasks: await import("@/app/api/v1/projects/[projectId]/tasks/route"),
  }));
}

const REASON = "The model vendor is double-billing; investigating";

describe.each(testDatabases)("the kill switch on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let ada: { id: string; role: string };
  let grace: { id: string; role: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "pause", { env: { KILN_PUBLIC_URL: "http://kiln.test" } });
    dataDir = world.dataDir;
    ada = world.ada;
    grace = world.grace;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  function call(
    handler: Handler,
    method: string,
    url: string,
    token: string,
    body?: unknown,
    params: Record<string, string> = {},
  ) {
    const headers = new Headers({ authorization: `Bearer ${token}` });
    if (body !== undefined) headers.set("content-type", "application/json");
    return handler(
      new Request(`http://kiln.test${url}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      { params: Promise.resolve(params) },
    );
  }

  async function errorOf(response: Response) {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  /** A project of `userId` whose first revision is in `status` (a running one with a sandbox row). */
  async function projectIn(userId: string, status: string) {
    const created = await createProject(t.db, userId, { prompt: "A guestbook" }, localProviderChoices);
    const now = Date.now();
    const sandboxId = `sbx_${randomBytes(5).toString("hex")}`;
    if (status !== "queued") {
      await t.db
        .insertInto("sandbox")
        .values({
          id: sandboxId,
          project_id: created.project.id,
          provider: "local",
          // No such local sandbox on this machine: stopping it only records the stop.
          external_id: `ksb-${randomBytes(5).toString("hex")}`,
          status: "running",
          webhook_secret_ciphertext: "v1.unused",
          preview_url: null,
          last_event_at: null,
          created_at: now,
          updated_at: now,
          stopped_at: null,
          server_id: null,
        })
        .execute();
    }
    await t.db
      .updateTable("revision")
      .set(
        status === "finished"
          ? { status, commit_sha: "a".repeat(40), db_branch_id: "dbb_unknown", sandbox_id: sandboxId }
          : status === "queued"
            ? { status }
            : { status, sandbox_id: sandboxId },
      )
      .where("id", "=", created.revision.id)
      .execute();
    return { ...created, sandboxId };
  }

  it("is for admins only (404 to everyone else) and wants a reason", async () => {
    const routes = await loadRoutes(t.db);
    expect(ada.role).toBe("admin");
    for (const [method, handler] of [
      ["GET", routes.pause.GET],
      ["POST", routes.pause.POST],
      ["DELETE", routes.pause.DELETE],
    ] as const) {
      const refused = await errorOf(
        await call(
          handler,
          method,
          "/api/v1/admin/pause",
          graceToken,
          method === "POST" ? { reason: REASON } : undefined,
        ),
      );
      expect([refused.status, refused.code]).toEqual([404, "not_found:route"]);
    }
    expect(
      (await errorOf(await call(routes.pause.POST, "POST", "/api/v1/admin/pause", adaToken, {}))).status,
    ).toBe(400);
    expect(await (await call(routes.pause.GET, "GET", "/api/v1/admin/pause", adaToken)).json()).toEqual({
      paused: false,
    });
    // Grace's refused attempt paused nothing.
    expect(await t.db.selectFrom("platform_pause").selectAll().execute()).toEqual([]);
  });

  it("cancels every operator's running revisions with the reason, stops their sandboxes, refuses new work with 503 until resumed", async () => {
    const routes = await loadRoutes(t.db);
    const adas = await projectIn(ada.id, "queued");
    const graces = await projectIn(grace.id, "generating");
    const done = await projectIn(grace.id, "finished");

    const paused = await call(routes.pause.POST, "POST", "/api/v1/admin/pause", adaToken, { reason: REASON });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({
      paused: true,
      reason: REASON,
      pausedBy: ada.id,
      cancelled: 2,
    });

    for (const { revision } of [adas, graces]) {
      const row = await t.db
        .selectFrom("revision")
        .select(["status", "error_message"])
        .where("id", "=", revision.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe("cancelled");
      expect(row.error_message).toContain(REASON);
      const events = await t.db
        .selectFrom("event")
        .select(["type", "payload"])
        .where("revision_id", "=", revision.id)
        .execute();
      const cancelled = events.find((event) => event.type === "revision.status");
      expect(JSON.parse(cancelled?.payload ?? "{}")).toMatchObject({ status: "cancelled" });
      expect(JSON.parse(cancelled?.payload ?? "{}").reason).toContain(REASON);
    }
    const sandbox = await t.db
      .selectFrom("sandbox")
      .select(["status", "stopped_at"])
      .where("id", "=", graces.sandboxId)
      .executeTakeFirstOrThrow();
    expect(sandbox.status).toBe("stopped");
    expect(sandbox.stopped_at).not.toBeNull();
    // What had finished stays finished.
    const finished = await t.db
      .selectFrom("revision")
      .select("status")
      .where("id", "=", done.revision.id)
      .executeTakeFirstOrThrow();
    expect(finished.status).toBe("finished");

    const refused = await errorOf(
      await call(routes.projects.POST, "POST", "/api/v1/projects", graceToken, {
        prompt: "A guestbook",
        providers: localProviderChoices,
      }),
    );
    expect(refused.status).toBe(503);
    expect(refused.code).toBe("paused");
    expect(refused.message).toContain(REASON);
    const followUp = await errorOf(
      await call(
        routes.followUps.POST,
        "POST",
        `/api/v1/projects/${done.project.id}/tasks/${done.task.id}/revisions`,
        graceToken,
        { prompt: "Add a dark mode" },
        { projectId: done.project.id, taskId: done.task.id },
      ),
    );
    expect([followUp.status, followUp.code]).toEqual([503, "paused"]);
    const task = await errorOf(
      await call(
        routes.tasks.POST,
        "POST",
        `/api/v1/projects/${done.project.id}/tasks`,
        graceToken,
        { prompt: "Try a dark theme on its own branch" },
        { projectId: done.project.id },
      ),
    );
    expect([task.status, task.code]).toEqual([503, "paused"]);
    expect(await (await call(routes.pause.GET, "GET", "/api/v1/admin/pause", adaToken)).json()).toMatchObject(
      {
        paused: true,
        reason: REASON,
      },
    );
    const audit = await t.db.selectFrom("audit_event").select(["action", "actor_user_id"]).execute();
    expect(audit).toContainEqual({ action: "platform.pause", actor_user_id: ada.id });

    const resumed = await call(routes.pause.DELETE, "DELETE", "/api/v1/admin/pause", adaToken);
    expect(await resumed.json()).toEqual({ paused: false });
    const again = await call(routes.projects.POST, "POST", "/api/v1/projects", graceToken, {
      prompt: "A guestbook",
      providers: localProviderChoices,
    });
    expect(again.status).toBe(202);
    expect(await t.db.selectFrom("audit_event").select("action").execute()).toContainEqual({
      action: "platform.resume",
    });
  });

  it("another app server on the same database notices within its cache window; its carry-on cancels paused work", async () => {
    const env = parseEnv(process.env);
    const first = wirePlatform(env, t.db);
    const second = wirePlatform(env, t.db);
    expect(await second.pause.current()).toBeUndefined();
    const primedAt = Date.now();

    await pausePlatform(first, { reason: REASON, by: ada.id });
    expect(await first.pause.current()).toMatchObject({ reason: REASON });
    // The second server answers from its cache for a moment (it reads the database at most every 5 s)…
    if (Date.now() - primedAt < 4_000) expect(await second.pause.current()).toBeUndefined();
    // …and then sees the pause, well within the 10 s the kill switch promises.
    await waitUntil(
      async () => (await second.pause.current()) !== undefined,
      "the second server's pause",
      10_000,
    );
    expect(Date.now() - primedAt).toBeLessThan(10_000);

    // A revision the second server admitted before it saw the pause is cancelled, not carried on.
    const late = await projectIn(grace.id, "queued");
    expect(await carryOn(second.carryOnDeps(), late.revision.id)).toBe(true);
    const row = await t.db
      .selectFrom("revision")
      .select(["status", "error_message"])
      .where("id", "=", late.revision.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("cancelled");
    expect(row.error_message).toContain(REASON);

    await resumePlatform(first, { by: ada.id });
    await waitUntil(
      async () => (await second.pause.current()) === undefined,
      "the second server's resume",
      10_000,
    );
  });

  it("the gateway refuses a run in flight while paused (503, not retried)", async () => {
    const run = await projectIn(ada.id, "generating");
    const secretKey = randomBytes(32);
    const token = issueRunToken(
      { revisionId: run.revision.id, sandboxId: run.sandboxId, ttlMs: 60_000 },
      secretKey,
    );
    const deps: GatewayDeps = {
      db: t.db,
      secretKey,
      resolveUpstream: async () => undefined,
      budget: { tokens: 0, usdMicros: 0 },
      pause: pauseReader(t.db, { ttlMs: 0 }),
    };
    const ask = () =>
      handleGatewayRequest(
        {
          protocol: "openai-responses",
          request: new Request("http://kiln.test/gateway/openai/v1/responses", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "gpt-5", input: "hi" }),
          }),
        },
        deps,
      );
    // Not paused: past the pause check (no key for the upstream here: 403).
    expect((await ask()).status).toBe(403);
    await t.db
      .insertInto("platform_pause")
      .values({ id: "platform", reason: REASON, paused_by: ada.id, paused_at: Date.now() })
      .execute();
    const refused = await ask();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("paused");
    expect(body.error.message).toContain(REASON);
  });
});
