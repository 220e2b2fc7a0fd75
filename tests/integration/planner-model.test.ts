import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { createProject } from "@/server/operations/create-project";
import { planForOperator } from "@/server/planner/plan-for-operator";
import type { ModelServer } from "../fakes/model-server";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { openPlannerWorld, type PlannerWorld } from "../helpers/planner-world";

// The platform chooses the planner's model on each vendor (OPENAI_PLANNER_MODEL, ANTHROPIC_PLANNER_MODEL): the
// planner asks that model, its call is metered as that model, and a model Kiln has no price for is refused before
// anything is asked (never counted at $0).

const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" } as const;

describe.each(testDatabases)("the planner's model on $name", (factory) => {
  let world: PlannerWorld;
  let t: TestDatabase;
  let models: ModelServer;
  let credentials: CredentialContext;
  let userId: string;

  beforeAll(async () => {
    world = await openPlannerWorld(factory);
    ({ t, models, credentials, userId } = world);
  });
  afterAll(async () => {
    await world?.close();
  });

  async function planWith(settings: Parameters<typeof planForOperator>[3]) {
    const created = await createProject(t.db, userId, { prompt: "build a todo app", agent: "codex" }, local);
    const plan = planForOperator(
      t.db,
      credentials,
      {
        userId,
        agent: "codex",
        prompt: "build a todo app",
        provider: "openai",
        model: "gpt-5.5",
        projectId: created.project.id,
        revisionId: created.revision.id,
        startingPoint: { kind: "template" },
      },
      settings,
    );
    return { plan, revisionId: created.revision.id };
  }

  it("asks the configured model and meters the call as that model", async () => {
    const before = models.modelRequests().length;
    const { plan, revisionId } = await planWith({ models: { openai: "gpt-5.4-mini" } });
    expect((await plan).title).toBe("Todo List");
    const asked = models.modelRequests().slice(before);
    expect(asked.map((request) => (request.body as { model?: string }).model)).toEqual(["gpt-5.4-mini"]);
    const usage = await t.db
      .selectFrom("usage")
      .select(["model", "cost_usd_micros"])
      .where("revision_id", "=", revisionId)
      .execute();
    expect(usage.map((row) => row.model)).toEqual(["gpt-5.4-mini"]);
    expect(Number(usage[0]?.cost_usd_micros)).toBeGreaterThan(0);
  });

  it("uses the agent's planner model when none is configured", async () => {
    const before = models.modelRequests().length;
    const { plan } = await planWith({});
    await plan;
    const asked = models.modelRequests().slice(before);
    expect(asked.map((request) => (request.body as { model?: string }).model)).toEqual(["gpt-5.5"]);
  });

  it("refuses a configured model without a price before asking anything", async () => {
    const before = models.modelRequests().length;
    const { plan } = await planWith({ models: { openai: "my-own-finetune" } });
    await expect(plan).rejects.toThrow(/no price for the model "my-own-finetune"/);
    expect(models.modelRequests().length).toBe(before);
  });
});
