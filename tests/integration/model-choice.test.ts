import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { type CreateProjectInput, createProject } from "@/server/operations/create-project";
import { getModelDefaults, saveModelDefaults, withModelDefaults } from "@/server/projects/model-defaults";
import { createFollowUp } from "@/server/revisions/create-revision";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { testPreviewOrigins } from "../helpers/public-site";

// Which provider and model a project, a follow-up and an operator's defaults choose, and what is refused.

const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" } as const;

describe.each(testDatabases)("model choice on $name", (factory) => {
  let t: TestDatabase;
  let ada: { id: string };

  beforeAll(async () => {
    t = await factory.open();
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
  });
  afterAll(async () => {
    await t.drop();
  });

  it("records an OpenAI-compatible provider and model on the project and its first checkpoint", async () => {
    const created = await createProject(
      t.db,
      ada.id,
      { prompt: "a todo app", agent: "claude-code", provider: "openai-compatible", model: "qwen3-coder:30b" },
      local,
    );
    const revision = await t.db
      .selectFrom("revision")
      .select(["model", "model_provider"])
      .where("id", "=", created.revision.id)
      .executeTakeFirstOrThrow();
    expect(revision).toEqual({ model: "qwen3-coder:30b", model_provider: "openai-compatible" });
  });

  it("refuses an OpenAI-compatible provider without a model, and the other vendor for an agent", async () => {
    await expect(
      createProject(t.db, ada.id, { prompt: "a todo app", provider: "openai-compatible" }, local),
    ).rejects.toThrow(/Name the model/);
    await expect(
      createProject(t.db, ada.id, { prompt: "a todo app", agent: "claude-code", provider: "openai" }, local),
    ).rejects.toThrow(/Claude Code runs on Anthropic or an OpenAI-compatible server/);
    await expect(
      createProject(t.db, ada.id, { prompt: "a todo app", model: "--yolo" }, local),
    ).rejects.toThrow(/does not start with -/);
  });

  it("a follow-up keeps the latest checkpoint's model unless it names another provider or model", async () => {
    const created = await createProject(t.db, ada.id, { prompt: "a todo app", agent: "codex" }, local);
    const ids = { projectId: created.project.id, taskId: created.task.id };
    const finish = (id: string) =>
      t.db.updateTable("revision").set({ status: "finished" }).where("id", "=", id).execute();
    await finish(created.revision.id);

    const same = await createFollowUp(t.db, testPreviewOrigins, ada.id, { ...ids, prompt: "add due dates" });
    expect(same).toMatchObject({ model: "gpt-5.5", modelProvider: "openai", agentVendor: "openai" });
    await finish(same.id);

    const refused = await appErrorOf(
      createFollowUp(t.db, testPreviewOrigins, ada.id, {
        ...ids,
        prompt: "add tags",
        provider: "openai-compatible",
      }),
    );
    expect(refused.fields).toMatchObject({ model: [expect.stringContaining("Name the model")] });

    const switched = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      ...ids,
      prompt: "add tags",
      provider: "openai-compatible",
      model: "llama3.3",
    });
    expect(switched).toMatchObject({ model: "llama3.3", modelProvider: "openai-compatible" });
    await finish(switched.id);

    // The next one stays on the server and model chosen last.
    const next = await createFollowUp(t.db, testPreviewOrigins, ada.id, { ...ids, prompt: "add colours" });
    expect(next).toMatchObject({ model: "llama3.3", modelProvider: "openai-compatible" });
    await finish(next.id);

    const back = await createFollowUp(t.db, testPreviewOrigins, ada.id, {
      ...ids,
      prompt: "back",
      provider: "openai",
    });
    expect(back).toMatchObject({ model: "gpt-5.5", modelProvider: "openai" });
  });

  it("keeps an operator's defaults and fills in only what a request does not name", async () => {
    expect(await getModelDefaults(t.db, ada.id)).toEqual({
      agent: undefined,
      provider: undefined,
      model: undefined,
    });
    await expect(saveModelDefaults(t.db, ada.id, { provider: "openai-compatible" })).rejects.toThrow(
      /Name the model/,
    );
    await saveModelDefaults(t.db, ada.id, {
      agent: "claude-code",
      provider: "openai-compatible",
      model: "qwen3-coder",
    });
    const defaults = await getModelDefaults(t.db, ada.id);
    expect(defaults).toEqual({ agent: "claude-code", provider: "openai-compatible", model: "qwen3-coder" });

    const bare: CreateProjectInput = { prompt: "x" };
    expect(withModelDefaults(bare, defaults)).toEqual({
      prompt: "x",
      agent: "claude-code",
      provider: "openai-compatible",
      model: "qwen3-coder",
    });
    // A request that names its own model or provider keeps it.
    expect(withModelDefaults({ prompt: "x", agent: "codex" as const, model: "gpt-5.4" }, defaults)).toEqual({
      prompt: "x",
      agent: "codex",
      model: "gpt-5.4",
    });
    // A vendor default does not carry over to the other vendor's agent.
    expect(
      withModelDefaults(
        { prompt: "x", agent: "codex" as const },
        { agent: undefined, provider: "anthropic", model: "claude-opus-5" },
      ),
    ).toEqual({ prompt: "x", agent: "codex" });
  });
});
