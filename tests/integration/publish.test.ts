import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "@/server/config/env-schema";
import type { Database } from "@/server/db/connection";
import { newId } from "@/server/ids";
import { createProject } from "@/server/operations/create-project";
import type { PreviewProxy } from "@/server/previews/preview-proxy";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// Publish (issue 12): a project's stable URL serves the checkpoint its operator published, through the routes as
// Next.js calls them (real API tokens) and through Kiln's HTTP front (the preview proxy), on the local deployer's own
// records. The deployments' servers are two small HTTP servers standing in for `next start` of two checkpoints.

type Routes = {
  publish: { POST: RouteHandler; DELETE: RouteHandler };
  project: { GET: RouteHandler };
  front: PreviewProxy;
  retireReplacedDeployments: typeof import("@/server/pipeline/steps/deploy").retireReplacedDeployments;
  deployerOf: (db: Database) => Promise<import("@/server/integrations/deployer/port").Deployer>;
};

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

/** Stand-ins for two checkpoints' running deployments. */
const apps = [1, 2, 3].map((n) =>
  http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`checkpoint ${n}'s app`);
  }),
);
const appUrls: string[] = [];

beforeAll(async () => {
  for (const app of apps) appUrls.push(`http://127.0.0.1:${await listen(app)}`);
});
afterAll(() => {
  for (const app of apps) app.close();
});

describe.each(testDatabases)("publishing a project on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string };
  let adaToken: string;
  let graceToken: string;
  let front: http.Server;
  let frontPort = 0;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "publish");
    ({ dataDir, ada, adaToken, graceToken } = world);
    routes = await importRoutesOn(t.db, async () => {
      const { frontPreviewProxy } = await import("@/server/platform/front-preview-proxy");
      const { platformFor } = await import("@/server/platform/platform");
      const env = parseEnv(process.env);
      return {
        publish: await import("@/app/api/v1/projects/[projectId]/publish/route"),
        project: await import("@/app/api/v1/projects/[projectId]/route"),
        front: frontPreviewProxy(env),
        retireReplacedDeployments: (await import("@/server/pipeline/steps/deploy")).retireReplacedDeployments,
        deployerOf: async (db: Database) => {
          const platform = await platformFor(env);
          const project = await db.selectFrom("project").selectAll().executeTakeFirstOrThrow();
          return (await platform.providersFor(project)).deployer;
        },
      };
    });
    front = http.createServer((req, res) => {
      if (routes.front.owns(req)) routes.front.request(req, res);
      else res.end("kiln's own page");
    });
    frontPort = await listen(front);
  });
  afterEach(async () => {
    front?.close();
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  /** A local deployment's record as the local deployer keeps it: ready, serving at `url`. */
  function deploymentServing(url: string): string {
    const id = `ldp_${randomBytes(10).toString("hex")}`;
    const root = path.join(dataDir, "deployments");
    fs.mkdirSync(root, { recursive: true });
    const record = {
      id,
      name: id,
      state: "ready",
      url,
      errorMessage: null,
      errors: [],
      sandboxId: null,
      createdAt: Date.now(),
    };
    fs.writeFileSync(path.join(root, `${id}.json`), JSON.stringify(record));
    return id;
  }

  /** Ada's project with `count` checkpoints on its main task; `deployed` ones have a ready deployment. */
  async function adasProject(
    checkpoints: Array<{ status: string; deployed?: boolean }>,
  ): Promise<{ projectId: string; taskId: string; revisionIds: string[] }> {
    const created = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
    const first = await t.db
      .selectFrom("revision")
      .selectAll()
      .where("id", "=", created.revision.id)
      .executeTakeFirstOrThrow();
    const revisionIds: string[] = [];
    for (const [index, checkpoint] of checkpoints.entries()) {
      const id = index === 0 ? first.id : newId("revision");
      const deploymentId = checkpoint.deployed ? deploymentServing(appUrls[index] ?? "") : null;
      const values = {
        status: checkpoint.status,
        commit_sha: "a".repeat(40),
        db_branch_id: "dbb_unknown",
        deployment_id: deploymentId,
        deploy_url: deploymentId ? (appUrls[index] ?? null) : null,
      };
      if (index === 0) await t.db.updateTable("revision").set(values).where("id", "=", id).execute();
      else
        await t.db
          .insertInto("revision")
          .values({ ...first, ...values, id, ordinal: index + 1 })
          .execute();
      revisionIds.push(id);
    }
    return { projectId: created.project.id, taskId: created.task.id, revisionIds };
  }

  function call(
    handler: RouteHandler,
    method: string,
    projectId: string,
    options: { token: string; body?: string; what?: string },
  ) {
    const headers = new Headers({ authorization: `Bearer ${options.token}` });
    if (options.body !== undefined) headers.set("content-type", "application/json");
    return handler(
      new Request(`http://kiln.test/api/v1/projects/${projectId}${options.what ?? "/publish"}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
      }),
      { params: Promise.resolve({ projectId }) },
    );
  }
  const publish = (projectId: string, token: string, body?: object | string) =>
    call(routes.publish.POST, "POST", projectId, {
      token,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  const unpublish = (projectId: string, token: string) =>
    call(routes.publish.DELETE, "DELETE", projectId, { token });
  async function publishedOf(projectId: string): Promise<unknown> {
    const response = await call(routes.project.GET, "GET", projectId, { token: adaToken, what: "" });
    expect(response.status).toBe(200);
    return ((await response.json()) as { project: { published: unknown } }).project.published;
  }
  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, code: body.error.code, message: body.error.message };
  }
  /** What a browser opening `url` gets from Kiln's HTTP front. */
  function open(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      http
        .get(
          { host: "127.0.0.1", port: frontPort, path: "/", headers: { host: new URL(url).host } },
          (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => {
              body += chunk.toString();
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on("error", reject);
    });
  }

  it("serves the newest finished checkpoint at a stable URL, switches it, and stops serving once unpublished", async () => {
    const { projectId, revisionIds } = await adasProject([
      { status: "finished", deployed: true },
      { status: "finished", deployed: true },
    ]);
    expect(await publishedOf(projectId)).toBeNull();

    const first = await publish(projectId, adaToken);
    expect(first.status).toBe(200);
    const { published } = (await first.json()) as { published: { url: string; ordinal: number } };
    expect(published).toMatchObject({ revisionId: revisionIds[1], ordinal: 2 });
    // The project's own host on the preview domain, which names neither the project nor the checkpoint.
    expect(published.url).toMatch(/^http:\/\/a-[0-9a-f]{32}\.localhost(:\d+)?\/$/);
    expect(published.url).not.toContain(projectId.slice(4));
    expect(await publishedOf(projectId)).toEqual({ ...published, publishedAt: expect.any(Number) });
    expect(await open(published.url)).toEqual({ status: 200, body: "checkpoint 2's app" });

    // Publishing an earlier checkpoint keeps the same URL and switches what it serves.
    const again = await publish(projectId, adaToken, { revisionId: revisionIds[0] });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { published: { url: string } }).published.url).toBe(published.url);
    expect(await open(published.url)).toEqual({ status: 200, body: "checkpoint 1's app" });
    // The header offers Update: a newer checkpoint of the main task has a running deployment.
    const project = await call(routes.project.GET, "GET", projectId, { token: adaToken, what: "" });
    expect(((await project.json()) as { project: { publishable: unknown } }).project.publishable).toEqual({
      revisionId: revisionIds[1],
      ordinal: 2,
    });

    const gone = await unpublish(projectId, adaToken);
    expect(gone.status).toBe(204);
    expect(await publishedOf(projectId)).toBeNull();
    const answer = await open(published.url);
    expect(answer.status).toBe(404);
    expect(answer.body).toContain("This app is not published.");
    // Unpublishing twice is fine.
    expect((await unpublish(projectId, adaToken)).status).toBe(204);
  });

  it("answers 404 for another operator's project or checkpoint, exactly as for a missing one", async () => {
    const { projectId, revisionIds } = await adasProject([{ status: "finished", deployed: true }]);
    const notFound = { status: 404, code: "not_found:project", message: "Project not found." };
    expect(await errorOf(await publish(projectId, graceToken))).toEqual(notFound);
    expect(await errorOf(await publish("prj_0000000000000000", graceToken))).toEqual(notFound);
    expect(await errorOf(await unpublish(projectId, graceToken))).toEqual(notFound);

    // Grace's own project, with Ada's checkpoint named.
    const grace = await t.db
      .selectFrom("user")
      .select("id")
      .where("email", "=", "grace@example.com")
      .executeTakeFirstOrThrow();
    const graces = await createProject(t.db, grace.id, { prompt: "A notes app" }, localProviderChoices);
    expect(
      await errorOf(await publish(graces.project.id, graceToken, { revisionId: revisionIds[0] })),
    ).toEqual({
      status: 404,
      code: "not_found:revision",
      message: "Revision not found.",
    });
    expect(await publishedOf(projectId)).toBeNull();
  });

  it("answers 400 for a body that is not a checkpoint reference", async () => {
    const { projectId } = await adasProject([{ status: "finished", deployed: true }]);
    for (const body of [{ revisionId: 5 }, { revisionId: "" }, { revision: "rev_x" }, "not json"]) {
      expect((await errorOf(await publish(projectId, adaToken, body))).status).toBe(400);
    }
    expect(await publishedOf(projectId)).toBeNull();
  });

  it("answers 409 with what to do when there is nothing to publish or its deployment is not running", async () => {
    const running = await adasProject([{ status: "generating" }]);
    expect(await errorOf(await publish(running.projectId, adaToken))).toEqual({
      status: 409,
      code: "conflict:revision_state",
      message: "Nothing to publish yet: no checkpoint of this project has finished.",
    });
    expect(
      await errorOf(await publish(running.projectId, adaToken, { revisionId: running.revisionIds[0] })),
    ).toEqual({
      status: 409,
      code: "conflict:revision_state",
      message: "Checkpoint 1 is generating: only a finished checkpoint can be published.",
    });

    const undeployed = await adasProject([{ status: "finished" }]);
    const notDeployed = {
      status: 409,
      code: "conflict:not_deployed",
      message:
        "Checkpoint 1 has no running deployment (it was retired or its deploy failed): redeploy it, then publish.",
    };
    expect(await errorOf(await publish(undeployed.projectId, adaToken))).toEqual(notDeployed);

    // Its deployment was removed (the local deployer no longer knows it).
    const removed = await adasProject([{ status: "finished", deployed: true }]);
    const row = await t.db
      .selectFrom("revision")
      .select("deployment_id")
      .where("id", "=", removed.revisionIds[0] ?? "")
      .executeTakeFirstOrThrow();
    fs.rmSync(path.join(dataDir, "deployments", `${row.deployment_id}.json`));
    expect(await errorOf(await publish(removed.projectId, adaToken))).toEqual(notDeployed);
    expect(await publishedOf(removed.projectId)).toBeNull();
  });

  it("keeps the published checkpoint's deployment when a newer one deploys, and retires it once it is no longer published", async () => {
    const { projectId, taskId, revisionIds } = await adasProject([
      { status: "finished", deployed: true },
      { status: "finished", deployed: true },
      { status: "finished", deployed: true },
    ]);
    const [one, two, three] = revisionIds;
    if (!one || !two || !three) throw new Error("three checkpoints");
    const published = (await (await publish(projectId, adaToken, { revisionId: one })).json()) as {
      published: { url: string };
    };
    // Checkpoint 3's deployment became ready: the deploy step retires the task's older ones.
    const deployer = await routes.deployerOf(t.db);
    await routes.retireReplacedDeployments(t.db, deployer, { projectId, taskId, revisionId: three });
    const deployed = async () =>
      (
        await t.db
          .selectFrom("revision")
          .select(["id", "deployment_id"])
          .where("task_id", "=", taskId)
          .where("deployment_id", "is not", null)
          .orderBy("ordinal")
          .execute()
      ).map((row) => row.id);
    expect(await deployed()).toEqual([one, three]);
    expect(await open(published.published.url)).toEqual({ status: 200, body: "checkpoint 1's app" });
    // Its deployment stopped (a failed redeploy clears the URL): published, but not running.
    await t.db.updateTable("revision").set({ deploy_url: null }).where("id", "=", one).execute();
    const stopped = await open(published.published.url);
    expect(stopped.status).toBe(503);
    expect(stopped.body).toContain("This app is not running right now.");
    await t.db
      .updateTable("revision")
      .set({ deploy_url: appUrls[0] ?? null })
      .where("id", "=", one)
      .execute();

    // Publishing checkpoint 3 instead: checkpoint 1's deployment was kept only for the stable URL.
    expect((await publish(projectId, adaToken, { revisionId: three })).status).toBe(200);
    expect(await deployed()).toEqual([three]);
    expect(await open(published.published.url)).toEqual({ status: 200, body: "checkpoint 3's app" });
    // Unpublishing the newest keeps its deployment: it is the task's current one.
    expect((await unpublish(projectId, adaToken)).status).toBe(204);
    expect(await deployed()).toEqual([three]);
  });
});
