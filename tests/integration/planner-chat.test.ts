import { afterEach, describe, expect, it } from "vitest";
import { type PlannerUsage, planApp } from "@/server/planner/plan-app";
import { PlannerError } from "@/server/planner/planner-error";
import { type ModelServer, type ModelServerOptions, startModelServer } from "../fakes/model-server";

// The planner on an OpenAI-compatible server (Chat Completions only): json_schema where the server takes it, a
// forced tool call where it does not, JSON mode after that; the answer checked with zod, repaired once; each call
// metered.

const servers: ModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(options: Omit<ModelServerOptions, "apis">): Promise<ModelServer> {
  const started = await startModelServer({ apis: ["chat"], ...options });
  servers.push(started);
  return started;
}

const validPlan = {
  title: "Todo List",
  slug: "todo-list",
  steps: ["Add a todos table", "Show the list"],
  agentPrompt: "Build a todo list app with a todos table.",
};

async function plan(target: ModelServer, usages: PlannerUsage[] = []) {
  return planApp({
    prompt: "build a todo app",
    provider: "openai-compatible",
    model: "qwen3-coder",
    apiKey: "",
    baseUrl: target.openaiBaseUrl,
    allowPrivateBaseUrl: true,
    onUsage: (usage) => {
      usages.push(usage);
    },
  });
}

function formats(target: ModelServer): string[] {
  return target.modelRequests().map((request) => {
    const body = request.body as { response_format?: { type: string }; tool_choice?: unknown };
    return body.tool_choice ? "tool" : (body.response_format?.type ?? "text");
  });
}

describe("planApp with an OpenAI-compatible server", () => {
  it("asks with a json_schema response format where the server supports it, and meters the call", async () => {
    const target = await server({ scenario: "plan-todo" });
    const usages: PlannerUsage[] = [];
    const result = await plan(target, usages);
    expect(result.title).toBe("Todo List");
    expect(formats(target)).toEqual(["json_schema"]);
    expect(target.modelRequests()[0]?.path).toBe("/v1/chat/completions");
    // No key configured: none invented beyond the SDK's placeholder, and the server needs none.
    expect(usages).toEqual([
      {
        provider: "openai-compatible",
        model: "qwen3-coder",
        inputTokens: 900,
        outputTokens: 220,
        cachedTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("falls back to a forced tool call on a server without json_schema, and keeps that way for the repair", async () => {
    const target = await server({
      scenario: {
        name: "no-schema",
        turns: [
          { when: { request: 1 }, reply: { kind: "json", value: { title: "Todo List", steps: [] } } },
          { reply: { kind: "json", value: validPlan } },
        ],
      },
      chat: { jsonSchema: false },
    });
    const usages: PlannerUsage[] = [];
    const result = await plan(target, usages);
    expect(result.agentPrompt).toContain("todos table");
    // 400 on json_schema, a tool call with an invalid plan, then the repair as a tool call again.
    expect(formats(target)).toEqual(["json_schema", "tool", "tool"]);
    const repair = target.modelRequests()[2]?.body as { messages: Array<{ content: string }> };
    expect(repair.messages.at(-1)?.content).toContain("could not be used");
    expect(usages).toHaveLength(2);
  });

  it("reads JSON out of plain text (code fences and all) when the server has neither, and estimates usage it did not report", async () => {
    const fenced = `Here is the plan:\n\`\`\`json\n${JSON.stringify(validPlan)}\n\`\`\``;
    const target = await server({
      scenario: { name: "text-only", turns: [{ reply: { kind: "json", raw: fenced } }] },
      chat: { jsonSchema: false, usage: false },
    });
    const usages: PlannerUsage[] = [];
    expect((await plan(target, usages)).slug).toBe("todo-list");
    expect(usages[0]?.estimated).toBe(true);
    expect(usages[0]?.inputTokens).toBeGreaterThan(100);
  });

  it("gives up after one repair with a PlannerError naming the problem", async () => {
    const target = await server({
      scenario: { name: "never", turns: [{ reply: { kind: "json", raw: "I cannot do JSON" } }] },
    });
    await expect(plan(target)).rejects.toBeInstanceOf(PlannerError);
    expect(target.modelRequests()).toHaveLength(2);
  });
});
