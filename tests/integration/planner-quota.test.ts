import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { findMeteredRun } from "@/server/db/queries/usage";
import { checkBudget } from "@/server/gateway/budget";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { noLimits } from "@/server/governance/quota-limits";
import { readQuotaStatus } from "@/server/governance/read-quota-status";
import { createProject } from "@/server/operations/create-project";
import { planForOperator } from "@/server/planner/plan-for-operator";
import { listProjects } from "@/server/projects/project-queries";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";
import { openPlannerWorld, type PlannerWorld } from "../helpers/planner-world";

// The planner's calls are metered like the agent's (issue 11): against the scripted model server, one planning call
// is a usage row of the revision, in the revision's totals (its budget), the dashboard's totals and the operator's
// monthly quota.

describe.each(testDatabases)("planner calls against budgets and quotas on $name", (factory) => {
  let world: PlannerWorld;
  let t: TestDatabase;
  let credentials: CredentialContext;
  let userId: string;

  beforeAll(async () => {
    world = await openPlannerWorld(factory);
    ({ t, credentials, userId } = world);
  });
  afterAll(async () => {
    await world?.close();
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
