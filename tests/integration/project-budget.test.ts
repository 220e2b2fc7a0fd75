import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/server/db/connection";
import { findMeteredRun } from "@/server/db/queries/usage";
import { checkBudget } from "@/server/gateway/budget";
import { createProject } from "@/server/operations/create-project";
import { getProjectBudgetView } from "@/server/projects/project-budget-view";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// A project's run budget (issue 11): PATCH /api/v1/projects/:id sets it beside the name, the gateway enforces it,
// and its refusal says where to raise it.

type Handler = RouteHandler;

async function loadRoute(db: Database): Promise<{ GET: Handler; PATCH: Handler }> {
  vi.resetModules();
  (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb = Promise.resolve(db);
  return import("@/app/api/v1/projects/[projectId]/route");
}

describe.each(testDatabases)("project budgets on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let ada: { id: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "budget");
    dataDir = world.dataDir;
    ada = world.ada;
    adaToken = world.adaToken;
    graceToken = world.graceToken;
  });
  afterEach(async () => {
    closeRouteWorld({ dataDir });
    await t.drop();
  });

  function patch(route: { PATCH: Handler }, projectId: string, token: string, body: unknown) {
    return route.PATCH(
      new Request(`http://kiln.test/api/v1/projects/${projectId}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      { params: Promise.resolve({ projectId }) },
    );
  }

  it("sets, shows and clears the run budget; the gateway enforces it and its refusal names where to raise it", async () => {
    const route = await loadRoute(t.db);
    const created = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
    const projectId = created.project.id;

    const set = await patch(route, projectId, adaToken, { budgetTokens: 1000, budgetUsd: 0.5 });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { project: { budget: unknown } }).project.budget).toEqual({
      tokens: 1000,
      usd: 0.5,
    });
    // A rename alone leaves the budget; the budget alone leaves the name.
    await patch(route, projectId, adaToken, { name: "Guestbook" });
    const tokensOnly = await patch(route, projectId, adaToken, { budgetTokens: 2000 });
    const after = (await tokensOnly.json()) as { project: { name: string; budget: unknown } };
    expect(after.project).toMatchObject({ name: "Guestbook", budget: { tokens: 2000, usd: 0.5 } });

    const run = await findMeteredRun(t.db, created.revision.id);
    if (!run) throw new Error("no run");
    expect([run.budgetTokens, run.budgetUsdMicros]).toEqual([2000, 500_000]);
    const over = checkBudget({ ...run, inputTokens: 2500 }, { tokens: 2_000_000, usdMicros: 5_000_000 });
    expect(over.ok).toBe(false);
    if (!over.ok) {
      expect(over.message).toContain("budget of 2,000 tokens / $0.50");
      expect(over.message).toContain("Raise the budget in the project's settings (Budget)");
      expect(over.message).toContain(`PATCH /api/v1/projects/${projectId}`);
    }

    const cleared = await patch(route, projectId, adaToken, { budgetTokens: null, budgetUsd: null });
    expect(((await cleared.json()) as { project: { budget: unknown } }).project.budget).toEqual({
      tokens: null,
      usd: null,
    });
    const view = await getProjectBudgetView(t.db, ada.id, projectId, {
      tokens: 2_000_000,
      usdMicros: 5_000_000,
    });
    expect(view).toMatchObject({ tokens: null, usd: null, defaults: { tokens: 2_000_000, usd: 5 } });
    const audit = await t.db.selectFrom("audit_event").select(["action", "target_id"]).execute();
    expect(audit.filter((row) => row.action === "project.budget")).toHaveLength(3);
  });

  it("400 on bad input, 404 on another operator's project (nothing changed)", async () => {
    const route = await loadRoute(t.db);
    const created = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
    const projectId = created.project.id;
    for (const body of [
      { budgetTokens: -1 },
      { budgetTokens: 1.5 },
      { budgetUsd: "5" },
      { budgetUsd: -0.01 },
      { budget: 5 },
      {},
    ]) {
      const response = await patch(route, projectId, adaToken, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("bad_request:input");
    }
    const other = await patch(route, projectId, graceToken, { budgetTokens: 5 });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("not_found:project");
    const row = await t.db
      .selectFrom("project")
      .select(["budget_tokens", "budget_usd_micros"])
      .where("id", "=", projectId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ budget_tokens: null, budget_usd_micros: null });
  });
});
