import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Database } from "@/server/db/connection";
import { type GatewayDeps, handleGatewayRequest } from "@/server/gateway/proxy";
import { recordUsage } from "@/server/gateway/record-usage";
import { issueRunToken } from "@/server/gateway/run-token";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { noLimits, type QuotaLimits } from "@/server/governance/quota-limits";
import { readQuotaStatus } from "@/server/governance/read-quota-status";
import { setOperatorQuotas } from "@/server/governance/set-operator-quotas";
import { createProject } from "@/server/operations/create-project";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { closeRouteWorld, openRouteWorld, type RouteHandler } from "../helpers/route-world";

// Quotas per operator (issue 11): the routes that start builds refuse one over a quota with 429 quota_exceeded,
// naming the limit and when it resets; admins' overrides (or "no limit") win over the platform defaults; the
// gateway stops a run in flight once the operator's monthly tokens or money are used up.

// The pipeline a created revision would start after the response is not this test's subject (and needs Next's
// request scope): only what the request itself decides is.
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: () => undefined,
}));

type Handler = RouteHandler;
type Routes = {
  projects: { POST: Handler };
  followUps: { POST: Handler };
  restore: { POST: Handler };
  adminUser: { PATCH: Handler };
};

/** Freshly imported so their platform is built on this test's database and environment. */
async function loadRoutes(db: Database): Promise<Routes> {
  vi.resetModules();
  (globalThis as { __kilnDb?: Promise<Database> }).__kilnDb = Promise.resolve(db);
  return {
    projects: await import("@/app/api/v1/projects/route"),
    followUps: await import("@/app/api/v1/projects/[projectId]/tasks/[taskId]/revisions/route"),
    restore: await import("@/app/api/v1/revisions/[revisionId]/restore/route"),
    adminUser: await import("@/app/api/v1/admin/users/[userId]/route"),
  };
}

const DAY = 86_400_000;

describe.each(testDatabases)("operator quotas on $name", (factory) => {
  let t: TestDatabase;
  let dataDir: string;
  let ada: { id: string };
  let grace: { id: string };
  let adaToken: string;
  let graceToken: string;

  beforeEach(async () => {
    t = await factory.open();
    const world = await openRouteWorld(t.db, "quotas", { env: { KILN_PUBLIC_URL: "http://kiln.test" } });
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

  function call(handler: Handler, url: string, token: string, body: unknown, params = {}, method = "POST") {
    return handler(
      new Request(`http://kiln.test${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      { params: Promise.resolve(params) },
    );
  }

  const newProject = (routes: Routes, token: string, prompt = "A guestbook") =>
    call(routes.projects.POST, "/api/v1/projects", token, { prompt, providers: localProviderChoices });

  async function created(response: Response) {
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as {
      project: { id: string };
      task: { id: string };
      revision: { id: string };
    };
  }

  async function refusal(response: Response) {
    const body = (await response.json()) as { error: { code: string; message: string } };
    return { status: response.status, ...body.error };
  }

  async function setStatus(revisionId: string, status: string) {
    await t.db
      .updateTable("revision")
      .set(
        status === "finished"
          ? { status, commit_sha: "a".repeat(40), db_branch_id: "dbb_unknown" }
          : { status },
      )
      .where("id", "=", revisionId)
      .execute();
  }

  /** 00:00 UTC tomorrow, as the message names it. */
  function tomorrowUtc(): string {
    const d = new Date();
    return `${new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString().slice(0, 10)} 00:00 UTC`;
  }

  function nextMonthUtc(): string {
    const d = new Date();
    return `${new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10)} 00:00 UTC`;
  }

  it("builds per day: the platform default refuses the next build with 429 naming the limit and the reset; yesterday's do not count", async () => {
    vi.stubEnv("KILN_QUOTA_BUILDS_PER_DAY", "2");
    const routes = await loadRoutes(t.db);
    const first = await created(await newProject(routes, adaToken));
    await setStatus(first.revision.id, "finished");
    await created(await newProject(routes, adaToken));

    const third = await refusal(await newProject(routes, adaToken));
    expect(third.status).toBe(429);
    expect(third.code).toBe("quota_exceeded");
    expect(third.message).toContain("Quota exceeded: builds per day");
    expect(third.message).toContain("2 of your 2 builds today");
    expect(third.message).toContain(`resets at ${tomorrowUtc()}`);
    // A follow-up is a build too.
    const followUp = await refusal(
      await call(
        routes.followUps.POST,
        `/api/v1/projects/${first.project.id}/tasks/${first.task.id}/revisions`,
        adaToken,
        { prompt: "Add a dark mode" },
        { projectId: first.project.id, taskId: first.task.id },
      ),
    );
    expect([followUp.status, followUp.code]).toEqual([429, "quota_exceeded"]);
    // Another operator has a count of their own.
    await created(await newProject(routes, graceToken));

    // The day rolls over (UTC): yesterday's builds no longer count.
    await t.db
      .updateTable("revision")
      .set({ created_at: Date.now() - DAY - 60_000 })
      .execute();
    await created(await newProject(routes, adaToken));
  });

  it("an admin's override wins over the default: a lower limit, no limit (null), and back to the default", async () => {
    vi.stubEnv("KILN_QUOTA_BUILDS_PER_DAY", "1");
    const routes = await loadRoutes(t.db);
    await created(await newProject(routes, adaToken));
    expect((await refusal(await newProject(routes, adaToken))).status).toBe(429);

    await setOperatorQuotas(t.db, ada.id, { buildsPerDay: null });
    await created(await newProject(routes, adaToken));
    await created(await newProject(routes, adaToken));

    await setOperatorQuotas(t.db, ada.id, { buildsPerDay: "default" });
    const back = await refusal(await newProject(routes, adaToken));
    expect(back.message).toContain("3 of your 1 builds today");

    // Grace stays on the default; an override for an unknown operator is NOT_FOUND.
    await created(await newProject(routes, graceToken));
    expect((await appErrorOf(setOperatorQuotas(t.db, "usr_nobody", { buildsPerDay: 3 }))).code).toBe(
      "not_found:operator",
    );
  });

  it("PATCH /api/v1/admin/users/:userId sets quotas (admins only), audited", async () => {
    const routes = await loadRoutes(t.db);
    const patchQuotas = (token: string, body: unknown) =>
      call(
        routes.adminUser.PATCH,
        `/api/v1/admin/users/${grace.id}`,
        token,
        body,
        { userId: grace.id },
        "PATCH",
      );
    expect((await patchQuotas(graceToken, { quotas: { buildsPerDay: 5 } })).status).toBe(404);
    for (const quotas of [
      { buildsPerDay: -1 },
      { concurrentRuns: 1.5 },
      { usdPerMonth: "5" },
      { other: 1 },
    ]) {
      expect((await patchQuotas(adaToken, { quotas })).status, JSON.stringify(quotas)).toBe(400);
    }
    const set = await patchQuotas(adaToken, { quotas: { buildsPerDay: 1, usdPerMonth: null } });
    expect(set.status).toBe(200);
    expect(
      await t.db.selectFrom("operator_quota").selectAll().where("user_id", "=", grace.id).executeTakeFirst(),
    ).toMatchObject({
      builds_per_day: 1,
      concurrent_runs: null,
      usd_per_month_micros: -1,
    });
    await created(await newProject(routes, graceToken));
    const refused = await refusal(await newProject(routes, graceToken));
    expect([refused.status, refused.code]).toEqual([429, "quota_exceeded"]);
    const audit = await t.db
      .selectFrom("audit_event")
      .select(["action", "actor_user_id", "target_id"])
      .execute();
    expect(audit).toContainEqual({ action: "operator.quotas", actor_user_id: ada.id, target_id: grace.id });
  });

  it("concurrent runs: a second build waits until the first ends; follow-ups and restores are refused alike", async () => {
    const routes = await loadRoutes(t.db);
    await setOperatorQuotas(t.db, ada.id, { concurrentRuns: 1 });
    const first = await created(await newProject(routes, adaToken));
    await setStatus(first.revision.id, "finished");
    const second = await created(await newProject(routes, adaToken));
    await setStatus(second.revision.id, "generating");

    const refused = await refusal(await newProject(routes, adaToken));
    expect(refused.status).toBe(429);
    expect(refused.message).toContain(
      "Quota exceeded: concurrent runs. 1 of your 1 concurrent builds are running",
    );
    const followUp = await refusal(
      await call(
        routes.followUps.POST,
        `/api/v1/projects/${first.project.id}/tasks/${first.task.id}/revisions`,
        adaToken,
        { prompt: "Add a dark mode" },
        { projectId: first.project.id, taskId: first.task.id },
      ),
    );
    expect([followUp.status, followUp.code]).toEqual([429, "quota_exceeded"]);
    const restore = await refusal(
      await call(routes.restore.POST, `/api/v1/revisions/${first.revision.id}/restore`, adaToken, undefined, {
        revisionId: first.revision.id,
      }),
    );
    expect([restore.status, restore.code]).toEqual([429, "quota_exceeded"]);

    await setStatus(second.revision.id, "cancelled");
    const restored = await call(
      routes.restore.POST,
      `/api/v1/revisions/${first.revision.id}/restore`,
      adaToken,
      undefined,
      { revisionId: first.revision.id },
    );
    expect(restored.status).toBe(202);
  });

  it("two concurrent creates cannot both slip under the concurrent-runs limit", async () => {
    const limits: QuotaLimits = { ...noLimits, concurrentRuns: 1 };
    const guard = (tx: Parameters<typeof assertWithinQuota>[0], now: number) =>
      assertWithinQuota(tx, limits, ada.id, now);
    const results = await Promise.allSettled(
      [1, 2, 3].map((n) =>
        createProject(t.db, ada.id, { prompt: `App number ${n}` }, localProviderChoices, Date.now(), {
          guard,
        }),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") expect(String(result.reason)).toContain("concurrent runs");
    }
    expect((await readQuotaStatus(t.db, limits, ada.id, Date.now())).usage.runningNow).toBe(1);
  });

  it("tokens and money per month: this month's usage (planner and agent alike) refuses new builds; last month's does not count", async () => {
    const routes = await loadRoutes(t.db);
    const first = await created(await newProject(routes, adaToken));
    await setStatus(first.revision.id, "finished");
    const usage = (inputTokens: number, at: number) =>
      recordUsage(
        t.db,
        {
          projectId: first.project.id,
          revisionId: first.revision.id,
          provider: "openai",
          model: "gpt-5",
          usage: { inputTokens, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0 },
        },
        at,
      );
    // Last month: 40 days ago is always before the first of this month.
    await usage(5_000, Date.now() - 40 * DAY);
    await setOperatorQuotas(t.db, ada.id, { tokensPerMonth: 1_000 });
    await created(await newProject(routes, adaToken));

    await usage(1_000, Date.now());
    const refused = await refusal(await newProject(routes, adaToken));
    expect(refused.status).toBe(429);
    expect(refused.message).toContain("Quota exceeded: tokens per month");
    expect(refused.message).toContain("1,000 of your 1,000 tokens this month");
    expect(refused.message).toContain(`resets at ${nextMonthUtc()}`);

    await setOperatorQuotas(t.db, ada.id, { tokensPerMonth: null, usdPerMonth: 0.001 });
    const money = await refusal(await newProject(routes, adaToken));
    expect(money.message).toContain("Quota exceeded: money per month");
    expect(money.message).toContain("of your $0.0010 this month");

    const status = await readQuotaStatus(t.db, noLimits, ada.id, Date.now());
    expect(status.usage.tokensThisMonth).toBe(1_000);
  });

  it("the gateway stops a run in flight once its operator's monthly quota is used, naming it", async () => {
    const first = await createProject(t.db, ada.id, { prompt: "A guestbook" }, localProviderChoices);
    await t.db
      .updateTable("revision")
      .set({ status: "generating", sandbox_id: "sbx_quota" })
      .where("id", "=", first.revision.id)
      .execute();
    const secretKey = randomBytes(32);
    const token = issueRunToken(
      { revisionId: first.revision.id, sandboxId: "sbx_quota", ttlMs: 60_000 },
      secretKey,
    );
    const deps: GatewayDeps = {
      db: t.db,
      secretKey,
      // Past the quota check the gateway looks for the operator's key: none here, which is how this test sees
      // that a run under its quota got through.
      resolveUpstream: async () => undefined,
      budget: { tokens: 0, usdMicros: 0 },
      quotas: { ...noLimits, usdPerMonthMicros: 2_000 },
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
    expect((await ask()).status).toBe(403);

    // gpt-5 at $1.25 per 1M input tokens: 2,000 tokens cost 2,500 micro-USD, past the $0.002 quota.
    await recordUsage(t.db, {
      projectId: first.project.id,
      revisionId: first.revision.id,
      provider: "openai",
      model: "gpt-5",
      usage: { inputTokens: 2_000, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0 },
    });
    const cut = await ask();
    expect(cut.status).toBe(429);
    expect(cut.headers.get("x-should-retry")).toBe("false");
    const body = (await cut.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error.type).toBe("budget_exceeded");
    expect(body.error.code).toBe("quota_exceeded");
    expect(body.error.message).toContain("Quota exceeded: money per month");
    expect(body.error.message).toContain(`resets at ${nextMonthUtc()}`);
  });
});
