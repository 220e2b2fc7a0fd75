import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import { findMeteredRun } from "@/server/db/queries/usage";
import { checkBudget } from "@/server/gateway/budget";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { noLimits } from "@/server/governance/quota-limits";
import { readQuotaStatus } from "@/server/governance/read-quota-status";
import { createProject } from "@/server/operations/create-project";
import { planForOperator } from "@/server/planner/plan-for-operator";
import { listProjects } from "@/server/projects/project-queries";
import { type ModelServer, startModelServer } from "../fakes/model-server";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";

// The planner's calls are metered like the agent's (issue 11): against the scripted model server, one planning call
// is a usage row of the revision, in the revision's totals (its budget), the dashboard's totals and the operator's
// monthly quota.

describe.each(testDatabases)("planner calls against budgets and quotas on $name", (factory) => {
  let t: TestDatabase;
  let models: ModelServer;
  let credentials: CredentialContext;
  let userId: string;
  const openaiKey = `sk-planner-${randomBytes(8).toString("hex")}`;

  beforeAll(async () => {
    t = await factory.open();
    models = await startModelServer({ scenario: "plan-todo", auth: { bearer: openaiKey } });
    credentials = {
      key: randomBytes(32),
      endpoints: {
        githubApiUrl: "http://127.0.0.1:1",
        vercelApiUrl: "http://127.0.0.1:1",
        tidbCloudApiUrl: "http://127.0.0.1:1",
        openaiBaseUrl: models.openaiBaseUrl,
        anthropicBaseUrl: models.url,
        allowPrivateModelUrls: true,
      },
      platformDefaults: {},
      verify: async () => ({ status: "verified", detail: "the scripted model server" }),
    };
    userId = (
      await createOperator(
        t.db,
        { email: "planner@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
    await saveCredential(t.db, credentials, userId, {
      kind: "openai",
      apiKey: openaiKey,
      baseUrl: models.openaiBaseUrl,
    });
  });
  afterAll(async () => {
    await models?.close();
    await t?.drop();
  });

  it("counts a planning call in the revision's totals, the dashboard and the month's quota", async () => {
    const created = await createProject(
      t.db,
      userId,
      { prompt: "build a todo app", agent: "codex" },
      localProviderChoices,
    );
    const before = await readQuotaStatus(t.db, noLimits, userId, Date.now());
    expect(before.usage.tokensThisMonth).toBe(0);

    await planForOperator(t.db, credentials, {
      userId,
      agent: "codex",
      prompt: "build a todo app",
      provider: "openai",
      model: "gpt-5.5",
      projectId: created.project.id,
      revisionId: created.revision.id,
      startingPoint: { kind: "template" },
    });

    const rows = await t.db
      .selectFrom("usage")
      .select(["input_tokens", "output_tokens", "cost_usd_micros"])
      .where("revision_id", "=", created.revision.id)
      .execute();
    expect(rows).toHaveLength(1);
    const planned = Number(rows[0]?.input_tokens) + Number(rows[0]?.output_tokens);
    expect(planned).toBeGreaterThan(0);

    // The revision's totals: what its run budget is checked against.
    const run = await findMeteredRun(t.db, created.revision.id);
    if (!run) throw new Error("no run");
    expect(run.inputTokens + run.outputTokens).toBe(planned);
    expect(checkBudget(run, { tokens: planned, usdMicros: 0 }).ok).toBe(false);
    // The dashboard's totals.
    const [summary] = await listProjects(t.db, userId, {});
    expect(summary?.usage.inputTokens).toBe(Number(rows[0]?.input_tokens));
    // The operator's month.
    const after = await readQuotaStatus(t.db, noLimits, userId, Date.now());
    expect(after.usage.tokensThisMonth).toBe(planned);
    expect(after.usage.usdMicrosThisMonth).toBe(Number(rows[0]?.cost_usd_micros));
    const refused = await appErrorOf(
      assertWithinQuota(t.db, { ...noLimits, tokensPerMonth: planned }, userId, Date.now()),
    );
    expect(refused.code).toBe("quota_exceeded");
  });
});
