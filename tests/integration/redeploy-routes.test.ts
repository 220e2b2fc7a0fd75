import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/server/db/connection";
import { createProject } from "@/server/operations/create-project";
import { requestRedeploy } from "@/server/revisions/redeploy-request";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { testPreviewOrigins } from "../helpers/public-site";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// The redeploy and deployment routes (`src/app/api/v1/revisions/[revisionId]/deploy|deployment`), called as Next.js
// calls them with a real API token: what they refuse and how. The redeploy itself (202, a new deployment that
// serves the checkpoint) is in redeploy.test.ts.

type Handler = RouteHandler;
type Routes = { deploy: { POST: Handler }; deployment: { GET: Handler } };

/** Freshly imported so their platform is built on this test's database (db/shared-database.ts). */
async function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => {
    const deploy = await import("@/app/api/v1/revisions/[revisionId]/deploy/route");
    const deployment = await import("@/app/api/v1/revisions/[revisionId]/deployment/route");
    return { deploy, deployment };
  });
}

describe.each(testDatabases)("redeploy routes on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "redeploy-routes");
    dataDir = world.dataDir;
    ada = world.ada;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
    routes = await loadRoutes(t.db);
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  /** Ada's first checkpoint, with the given status (finished ones have a commit and a database branch). */
  async function checkpoint(status: string): Promise<string> {
    const created = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
    await t.db
      .updateTable("revision")
      .set(
        status === "finished"
          ? { status, commit_sha: "a".repeat(40), db_branch_id: "dbb_unknown" }
          : { status },
      )
      .where("id", "=", created.revision.id)
      .execute();
    return created.revision.id;
  }

  function call(handler: Handler, method: string, revisionId: string, what: string, token?: string) {
    const headers = new Headers();
    if (token) headers.set("authorization", `Bearer ${token}`);
    return handler(
      new Request(`http://kiln.test/api/v1/revisions/${revisionId}/${what}`, { method, headers }),
      {
        params: Promise.resolve({ revisionId }),
      },
    );
  }

  const redeploy = (revisionId: string, token?: string) =>
    call(routes.deploy.POST, "POST", revisionId, "deploy", token);
  const deployment = (revisionId: string, token?: string) =>
    call(routes.deployment.GET, "GET", revisionId, "deployment", token);

  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  it("answers 404 for another operator's checkpoint, exactly as for one that does not exist", async () => {
    const revisionId = await checkpoint("finished");
    const theirs = await errorOf(await redeploy(revisionId, graceToken));
    const missing = await errorOf(await redeploy("rev_0000000000000000", adaToken));
    expect(theirs).toEqual({ status: 404, code: "not_found:revision", message: "Revision not found." });
    expect(missing).toEqual(theirs);
    expect(await errorOf(await deployment(revisionId, graceToken))).toEqual(theirs);
  });

  it("answers 409 with the reason for a checkpoint that is not finished", async () => {
    for (const status of ["generating", "failed"]) {
      const revisionId = await checkpoint(status);
      expect(await errorOf(await redeploy(revisionId, adaToken))).toEqual({
        status: 409,
        code: "conflict:revision_state",
        message: `Checkpoint 1 is ${status}: only a finished checkpoint can be redeployed.`,
      });
    }
  });

  it("answers 409 while a redeploy of the checkpoint is running, and the deployment says it is", async () => {
    const revisionId = await checkpoint("finished");
    // A first request took the checkpoint's deploy lease; its redeploy is under way.
    await requestRedeploy(t.db, testPreviewOrigins, ada.id, revisionId);
    expect(await errorOf(await redeploy(revisionId, adaToken))).toEqual({
      status: 409,
      code: "conflict:revision_state",
      message: "Checkpoint 1 is already being deployed: wait for that deploy to end.",
    });
    const shown = await deployment(revisionId, adaToken);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { deployment: { redeploying: boolean } }).deployment.redeploying).toBe(
      true,
    );
  });

  it("answers 400 for a malformed checkpoint id", async () => {
    const bad = await errorOf(await redeploy("x".repeat(41), adaToken));
    expect(bad).toMatchObject({ status: 400, code: "bad_request:input" });
    expect((await deployment("x".repeat(41), adaToken)).status).toBe(400);
  });

  it("describes a checkpoint that was never deployed as having no deployment", async () => {
    const revisionId = await checkpoint("finished");
    const response = await deployment(revisionId, adaToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({
      deployment: {
        id: null,
        state: "none",
        url: null,
        error: null,
        redeploying: false,
        log: { lines: [], truncated: false },
      },
    });
  });
});
