import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appEnvForRun } from "@/server/app-env/app-env-for-run";
import type { Database } from "@/server/db/connection";
import { createProject } from "@/server/operations/create-project";
import { deleteProject } from "@/server/projects/project-queries";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, importRoutesOn, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// The app environment routes (`src/app/api/v1/projects/[projectId]/env…`), called as Next.js calls them with real API
// tokens: what they store, what they give back (never a secret's value), what they refuse and how. What the
// variables reach (the preview, migrations, deployments; not the agent) is in app-env-pipeline.test.ts.

const KEY = Buffer.alloc(32, 7);

type Handler = RouteHandler;
type Routes = { list: { GET: Handler }; one: { PUT: Handler; DELETE: Handler } };

/** Freshly imported so their platform is built on this test's database (db/shared-database.ts). */
async function loadRoutes(db: Database): Promise<Routes> {
  return importRoutesOn(db, async () => {
    const list = await import("@/app/api/v1/projects/[projectId]/env/route");
    const one = await import("@/app/api/v1/projects/[projectId]/env/[name]/route");
    return { list, one };
  });
}

type Listed = { env: Array<{ name: string; secret: boolean; value: string | null; updatedAt: number }> };

describe.each(testDatabases)("app env routes on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let routes: Routes;
  let ada: { id: string };
  let adaToken: string;
  let graceToken: string;
  let projectId: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "app-env-routes", { key: KEY });
    dataDir = world.dataDir;
    ada = world.ada;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
    projectId = (await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices)).project
      .id;
    routes = await loadRoutes(t.db);
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  function request(method: string, url: string, token: string, body?: unknown) {
    const headers = new Headers({ authorization: `Bearer ${token}` });
    if (body !== undefined) headers.set("content-type", "application/json");
    return new Request(`http://kiln.test${url}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  const put = (name: string, body: unknown, token = adaToken, project = projectId) =>
    routes.one.PUT(request("PUT", `/api/v1/projects/${project}/env/${name}`, token, body), {
      params: Promise.resolve({ projectId: project, name }),
    });
  const remove = (name: string, token = adaToken, project = projectId) =>
    routes.one.DELETE(request("DELETE", `/api/v1/projects/${project}/env/${name}`, token), {
      params: Promise.resolve({ projectId: project, name }),
    });
  const list = (token = adaToken, project = projectId) =>
    routes.list.GET(request("GET", `/api/v1/projects/${project}/env`, token), {
      params: Promise.resolve({ projectId: project }),
    });

  async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, code: body.error.code, message: body.error.message };
  }

  it("stores variables encrypted and lists names and plain values, never a secret's value", async () => {
    const secretValue = "sk_live_correct-horse-battery-staple";
    expect((await put("STRIPE_SECRET_KEY", { value: secretValue, secret: true })).status).toBe(200);
    const plain = await put("APP_GREETING", { value: "hello from the settings" });
    expect(await plain.json()).toMatchObject({
      variable: { name: "APP_GREETING", secret: false, value: "hello from the settings" },
    });

    const listed = (await (await list()).json()) as Listed;
    expect(listed.env.map(({ name, secret, value }) => ({ name, secret, value }))).toEqual([
      { name: "APP_GREETING", secret: false, value: "hello from the settings" },
      { name: "STRIPE_SECRET_KEY", secret: true, value: null },
    ]);
    expect(JSON.stringify(listed)).not.toContain(secretValue);

    // At rest: ciphertext only, for plain values too.
    const rows = await t.db.selectFrom("app_env").selectAll().execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.value_ciphertext).toMatch(/^v1\./);
      expect(row.value_ciphertext).not.toContain(secretValue);
      expect(row.value_ciphertext).not.toContain("hello");
    }
    // What a run gets: every value, the secret ones to redact, and which names are secret.
    expect(await appEnvForRun(t.db, KEY, projectId)).toEqual({
      env: { APP_GREETING: "hello from the settings", STRIPE_SECRET_KEY: secretValue },
      secrets: [secretValue],
      secretNames: ["STRIPE_SECRET_KEY"],
    });
  });

  it("replaces a value; leaving `secret` out keeps a secret secret; delete removes it", async () => {
    await put("API_TOKEN", { value: "first-value-123", secret: true });
    const rewritten = await put("API_TOKEN", { value: "second-value-456" });
    expect(await rewritten.json()).toMatchObject({
      variable: { name: "API_TOKEN", secret: true, value: null },
    });
    expect((await appEnvForRun(t.db, KEY, projectId)).env).toEqual({ API_TOKEN: "second-value-456" });

    const shown = await put("API_TOKEN", { value: "now-plain", secret: false });
    expect(await shown.json()).toMatchObject({ variable: { secret: false, value: "now-plain" } });

    expect((await remove("API_TOKEN")).status).toBe(204);
    expect(((await (await list()).json()) as Listed).env).toEqual([]);
    expect(await errorOf(await remove("API_TOKEN"))).toEqual({
      status: 404,
      code: "not_found:app_env",
      message: "The project has no variable of that name.",
    });
  });

  it("answers 404 for another operator's project, exactly as for one that does not exist", async () => {
    await put("APP_GREETING", { value: "hello" });
    const missing = await errorOf(await list(adaToken, "prj_0000000000000000"));
    expect(missing).toEqual({ status: 404, code: "not_found:project", message: "Project not found." });
    expect(await errorOf(await list(graceToken))).toEqual(missing);
    expect(await errorOf(await put("APP_GREETING", { value: "theirs" }, graceToken))).toEqual(missing);
    expect(await errorOf(await remove("APP_GREETING", graceToken))).toEqual(missing);
    // Nothing of Ada's changed.
    expect((await appEnvForRun(t.db, KEY, projectId)).env).toEqual({ APP_GREETING: "hello" });
  });

  it("refuses bad and reserved names, oversized values and a secret NEXT_PUBLIC_ variable with a clear 400", async () => {
    const cases: Array<[string, unknown, string]> = [
      [
        "1ST",
        { value: "x" },
        "name: A name has letters, digits and underscores only, and does not start with a digit.",
      ],
      [
        "MY-VAR",
        { value: "x" },
        "name: A name has letters, digits and underscores only, and does not start with a digit.",
      ],
      [`A${"B".repeat(100)}`, { value: "x" }, "name: A name has at most 100 characters."],
      [
        "DATABASE_URL",
        { value: "mysql://x" },
        "name: DATABASE_URL is set by Kiln itself; choose another name.",
      ],
      ["PORT", { value: "1" }, "name: PORT is set by Kiln itself; choose another name."],
      ["node_env", { value: "test" }, "name: node_env is set by Kiln itself; choose another name."],
      [
        "KILN_SECRET_KEY",
        { value: "x" },
        "name: Names starting with KILN_ are reserved for Kiln and the platform; choose another name.",
      ],
      ["BIG", { value: "x".repeat(32 * 1024 + 1) }, "value: A value has at most 32 KB."],
      ["FLAG", { value: "x", secret: "yes" }, "secret: Invalid input: expected boolean, received string"],
      [
        "NEXT_PUBLIC_KEY",
        { value: "x", secret: true },
        "NEXT_PUBLIC_ variables are built into the pages every visitor downloads: they cannot be secret.",
      ],
    ];
    for (const [name, body, message] of cases) {
      expect(await errorOf(await put(name, body)), name).toEqual({
        status: 400,
        code: "bad_request:input",
        message,
      });
    }
    expect(await t.db.selectFrom("app_env").selectAll().execute()).toEqual([]);
  });

  it("caps the number of variables per project", async () => {
    for (let i = 0; i < 100; i++) expect((await put(`VAR_${i}`, { value: "v" })).status).toBe(200);
    expect(await errorOf(await put("ONE_MORE", { value: "v" }))).toEqual({
      status: 409,
      code: "conflict:app_env_limit",
      message: "A project has at most 100 variables: delete one first.",
    });
    // Replacing an existing one is still fine.
    expect((await put("VAR_0", { value: "w" })).status).toBe(200);
  });

  it("deleting the project deletes its variables", async () => {
    await put("APP_GREETING", { value: "hello" });
    await deleteProject(t.db, ada.id, projectId);
    expect(await t.db.selectFrom("app_env").selectAll().execute()).toEqual([]);
  });
});
