import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type PlanAppInput, planApp } from "../../src/server/planner/plan-app";
import { planSchema } from "../../src/server/planner/plan-schema";
import { PlannerError } from "../../src/server/planner/planner-error";
import { importedConventions, templateConventions } from "../../src/server/planner/prompts";
import { loadScenario, type ModelServer, type ScenarioInput, startModelServer } from "../fakes/model-server";
import { rejectionOf } from "../helpers/errors";

// The planner against the scripted model server, through the real SDKs: what it sends (one structured,
// unstreamed request carrying the operator's prompt) and what a caller gets back — a plan, or a PlannerError
// saying what to do, never the key.

const apiKey = "sk-planner-canary-Q7x9Zt2Lm4Vb8Nc1";
const prompt = "build a todo app where I can tick things off";
const servers: ModelServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(scenario: ScenarioInput | string): Promise<ModelServer> {
  const started = await startModelServer({ scenario, auth: { bearer: apiKey, apiKey } });
  servers.push(started);
  return started;
}

type Provider = PlanAppInput["provider"];
const models: Record<Provider, string> = {
  openai: "gpt-5.5",
  anthropic: "claude-sonnet-5",
  "openai-compatible": "qwen3-coder",
};

function plan(target: ModelServer, provider: Provider, extra: Partial<PlanAppInput> = {}) {
  return planApp({
    prompt,
    provider,
    model: models[provider],
    apiKey,
    baseUrl: provider === "anthropic" ? target.url : target.openaiBaseUrl,
    // The scripted model listens on 127.0.0.1, as a self-hoster's Ollama would.
    allowPrivateBaseUrl: true,
    timeoutMs: 5_000,
    ...extra,
  });
}

async function plannerErrorOf(promise: Promise<unknown>): Promise<PlannerError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof PlannerError)) throw new Error(`expected a PlannerError, got ${String(error)}`);
  expect(`${error.message} ${error.stack ?? ""}`).not.toContain(apiKey);
  return error;
}

const planValue = loadScenario("plan-todo").turns[0]?.reply;
const validPlan = z
  .object({ kind: z.literal("json"), value: z.record(z.string(), z.unknown()) })
  .parse(planValue).value;
const withoutTitle = { ...validPlan, title: undefined };

const openaiBody = z.object({
  model: z.string(),
  stream: z.boolean().optional(),
  store: z.boolean(),
  instructions: z.string(),
  input: z.array(z.object({ role: z.literal("user"), content: z.string() })).length(1),
  text: z.object({
    format: z.object({
      type: z.literal("json_schema"),
      name: z.string(),
      strict: z.literal(true),
      schema: z.object({
        type: z.literal("object"),
        required: z.array(z.string()),
        additionalProperties: z.literal(false),
      }),
    }),
  }),
});

const anthropicBody = z.object({
  model: z.string(),
  stream: z.boolean().optional(),
  max_tokens: z.number(),
  system: z.string(),
  messages: z.array(z.object({ role: z.literal("user"), content: z.string() })).length(1),
  tools: z
    .array(
      z.object({
        name: z.string(),
        input_schema: z.object({ type: z.literal("object"), required: z.array(z.string()) }),
      }),
    )
    .length(1),
  tool_choice: z.object({ type: z.literal("tool"), name: z.string() }),
});

function userText(target: ModelServer, index: number): string {
  return target.modelRequests()[index]?.conversation?.prompt ?? "";
}

describe("planApp: the request", () => {
  it("OpenAI: one Responses call with a strict json_schema format, the model, no stream, the prompt", async () => {
    const target = await server("plan-todo");
    await plan(target, "openai");
    const [request, ...rest] = target.modelRequests();
    expect(rest).toEqual([]);
    expect(request?.path).toBe("/v1/responses");
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.headers["openai-organization"]).toBeUndefined();
    expect(request?.headers["openai-project"]).toBeUndefined();
    const body = openaiBody.parse(request?.body);
    expect(body.model).toBe("gpt-5.5");
    expect(body.stream ?? false).toBe(false);
    expect(body.store).toBe(false);
    expect(body.text.format.schema.required.sort()).toEqual(["agentPrompt", "slug", "steps", "title"]);
    expect(body.input[0]?.content).toContain(prompt);
  });

  it("Anthropic: one Messages call forcing the single plan tool, x-api-key auth, no stream, the prompt", async () => {
    const target = await server("plan-todo");
    await plan(target, "anthropic");
    const [request, ...rest] = target.modelRequests();
    expect(rest).toEqual([]);
    expect(request?.path).toBe("/v1/messages");
    expect(request?.headers["x-api-key"]).toBe(apiKey);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.headers["anthropic-version"]).toBeTruthy();
    const body = anthropicBody.parse(request?.body);
    expect(body.model).toBe("claude-sonnet-5");
    expect(body.stream ?? false).toBe(false);
    expect(body.tool_choice.name).toBe(body.tools[0]?.name);
    expect(body.tools[0]?.input_schema.required.sort()).toEqual(["agentPrompt", "slug", "steps", "title"]);
    expect(body.messages[0]?.content).toContain(prompt);
  });
});

describe.each(["openai", "anthropic"] as const)("planApp with %s", (provider) => {
  it("returns the model's plan, with the template conventions added to the agent prompt", async () => {
    const result = await plan(await server("plan-todo"), provider);
    expect(planSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ title: "Todo List", slug: "todo-list" });
    expect(result.steps).toHaveLength(4);
    expect(result.agentPrompt).toContain("todos");
    for (const convention of [
      "Kysely migration",
      "server actions",
      "src/components/ui/",
      "npm run migrate",
      "npm run build",
    ]) {
      expect(result.agentPrompt).toContain(convention);
    }
  });

  it("plans an imported repository as itself: its own conventions, never the template's", async () => {
    const target = await server("plan-todo");
    const result = await plan(target, provider, {
      startingPoint: { kind: "import", origin: "GitHub acme/shop" },
    });
    const body = target.modelRequests()[0]?.body;
    const instructions =
      provider === "openai" ? openaiBody.parse(body).instructions : anthropicBody.parse(body).system;
    expect(instructions).toContain('existing repository the user imported ("GitHub acme/shop")');
    expect(instructions).not.toContain("starts from a template");
    expect(result.agentPrompt.endsWith(importedConventions)).toBe(true);
    expect(importedConventions).toContain("npm run build");
    expect(result.agentPrompt).not.toContain(templateConventions);
  });

  it("normalises the slug, and falls back to the title when nothing of it is left", async () => {
    const messy = await plan(
      await server({
        name: "messy-slug",
        turns: [{ reply: { kind: "json", value: { ...validPlan, slug: "  Todo List — Ünïcode!! " } } }],
      }),
      provider,
    );
    expect(messy.slug).toBe("todo-list-unicode");
    const empty = await plan(
      await server({
        name: "empty-slug",
        turns: [{ reply: { kind: "json", value: { ...validPlan, title: "Grocery Planner", slug: "!!!" } } }],
      }),
      provider,
    );
    expect(empty.slug).toBe("grocery-planner");
  });

  it("asks again once after an invalid answer, saying what was wrong, and returns the second plan", async () => {
    const target = await server({
      name: "invalid-then-valid",
      turns: [
        { when: { request: 0 }, reply: { kind: "json", value: withoutTitle } },
        { reply: { kind: "json", value: validPlan } },
      ],
    });
    const result = await plan(target, provider);
    expect(result.title).toBe("Todo List");
    expect(target.modelRequests()).toHaveLength(2);
    expect(userText(target, 1)).toContain(prompt);
    expect(userText(target, 1)).toContain("title is missing");
  });

  it("gives up after two invalid answers with a PlannerError naming the problem", async () => {
    const target = await server({
      name: "always-invalid",
      turns: [{ reply: { kind: "json", value: withoutTitle } }],
    });
    const error = await plannerErrorOf(plan(target, provider));
    expect(error).toMatchObject({ kind: "invalid_plan", provider, retryable: false });
    expect(error.message).toContain("The model's plan was not valid: title is missing");
    expect(target.modelRequests()).toHaveLength(2);
  });

  it("reports a plan that breaks a limit (too many steps) by name", async () => {
    const steps = Array.from({ length: 13 }, (_, n) => `Step ${n + 1}`);
    const target = await server({
      name: "long",
      turns: [{ reply: { kind: "json", value: { ...validPlan, steps } } }],
    });
    const error = await plannerErrorOf(plan(target, provider));
    expect(error.message).toContain("steps has more than 12 steps");
  });

  it("reports a refusal, after one more try, with the model's reason", async () => {
    const target = await server({
      name: "refusal",
      turns: [{ reply: { kind: "refusal", text: "I can't help with building that." } }],
    });
    const error = await plannerErrorOf(plan(target, provider));
    expect(error.kind).toBe("refused");
    expect(error.message).toContain("The model refused to plan this app: I can't help with building that.");
    expect(target.modelRequests()).toHaveLength(2);
  });

  it("says the key was rejected (401) without repeating it, and does not retry", async () => {
    const target = await server("plan-todo");
    const wrongKey = "sk-wrong-canary-H3k8Pq5Rw1Ty6Ud0";
    const error = await plannerErrorOf(plan(target, provider, { apiKey: wrongKey }));
    expect(error).toMatchObject({ kind: "auth", status: 401, retryable: false });
    expect(error.message).toContain("rejected the planner's API key");
    expect(error.message).toContain("Settings");
    expect(error.message).not.toContain(wrongKey);
    expect(target.modelRequests()).toHaveLength(1);
  });

  it("turns an upstream 500 into a retryable 'unavailable' PlannerError, after one request", async () => {
    const target = await server("upstream-500");
    const error = await plannerErrorOf(plan(target, provider));
    expect(error).toMatchObject({ kind: "unavailable", status: 500, retryable: true });
    expect(error.message).toMatch(/failed to answer the planning request \(HTTP 500/);
    expect(target.modelRequests()).toHaveLength(1);
  });

  it("passes on a 429 with its retry-after", async () => {
    const target = await server({
      name: "limited",
      turns: [{ reply: { kind: "error", status: 429, retryAfterSeconds: 7 } }],
    });
    const error = await plannerErrorOf(plan(target, provider));
    expect(error).toMatchObject({ kind: "rate_limited", status: 429, retryable: true, retryAfterMs: 7000 });
    expect(error.message).toContain("Try again in a minute");
  });

  it("times out on an upstream that never answers", async () => {
    const target = await server("upstream-hang");
    const started = Date.now();
    const error = await plannerErrorOf(plan(target, provider, { timeoutMs: 500 }));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    expect(error.message).toContain("did not finish planning within 500 ms");
    // The message shows which limit ended it; the bound is only against a hang, with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(target.modelRequests()).toHaveLength(1);
  });

  it("says where it could not connect when the endpoint is down", async () => {
    const target = await server("plan-todo");
    await target.close();
    const error = await plannerErrorOf(plan(target, provider));
    expect(error).toMatchObject({ kind: "unavailable", retryable: true });
    expect(error.message).toContain(
      `Could not reach ${provider === "openai" ? "OpenAI" : "Anthropic"} at 127.0.0.1`,
    );
    expect(error.message).toContain("connection refused");
  });
});

describe.each(["openai", "anthropic"] as const)(
  "planApp with %s: where it connects, what it repeats",
  (provider) => {
    it("refuses an operator's base URL on a loopback host before sending anything", async () => {
      const target = await server("plan-todo");
      const error = await plannerErrorOf(plan(target, provider, { allowPrivateBaseUrl: false }));
      expect(error).toMatchObject({ kind: "invalid_input", retryable: false });
      expect(error.message).toMatch(/base URL in Settings is not allowed: it must use https:\/\//);
      const local = `https://localhost:${new URL(target.url).port}`;
      const viaName = await plannerErrorOf(
        plan(target, provider, {
          allowPrivateBaseUrl: false,
          baseUrl: provider === "openai" ? `${local}/v1` : local,
        }),
      );
      expect(viaName.message).toContain("localhost is a loopback, private or link-local address");
      expect(target.modelRequests()).toEqual([]);
    });

    it("never repeats what an upstream answered in its error (the revision's error is public)", async () => {
      const leak = "internal-admin-page db_password=hunter2";
      for (const [status, contentType, body] of [
        [403, "application/json", JSON.stringify({ error: { message: leak, type: "permission_error" } })],
        [
          404,
          "application/json",
          JSON.stringify({ type: "error", error: { type: "not_found_error", message: leak } }),
        ],
        [500, "application/json", JSON.stringify({ error: { message: leak } })],
        [400, "text/html", `<html><body>${leak}</body></html>`],
        [200, "text/html", `<html><body>${leak}</body></html>`],
        [200, "application/json", `{"broken": "${leak}`],
      ] as const) {
        const internal = http.createServer((_req, res) => {
          res.writeHead(status, { "content-type": contentType });
          res.end(body);
        });
        await new Promise<void>((resolve) => internal.listen(0, "127.0.0.1", resolve));
        const { port } = internal.address() as AddressInfo;
        try {
          const base = `http://127.0.0.1:${port}`;
          const error = await plannerErrorOf(
            planApp({
              prompt,
              provider,
              model: models[provider],
              apiKey,
              baseUrl: provider === "openai" ? `${base}/v1` : base,
              allowPrivateBaseUrl: true,
              timeoutMs: 5_000,
            }),
          );
          expect(error.message, `HTTP ${status} ${contentType}`).not.toContain("hunter2");
          expect(error.message, `HTTP ${status} ${contentType}`).not.toContain("internal-admin-page");
          if (status !== 200) expect(error.message).toContain(`HTTP ${status}`);
        } finally {
          await new Promise((resolve) => internal.close(resolve));
        }
      }
    });
  },
);

describe("planApp: answers that are not plans, and bad input", () => {
  it("OpenAI: text that is not JSON, twice, is an invalid plan", async () => {
    const target = await server({
      name: "prose",
      turns: [{ reply: { kind: "json", raw: "Sure! Here is a plan: …" } }],
    });
    const error = await plannerErrorOf(plan(target, "openai"));
    expect(error.message).toContain("The model's plan was not valid: the answer is not valid JSON");
    expect(userText(target, 1)).toContain("the answer is not valid JSON");
  });

  it("Anthropic: an answer without the forced tool call counts as a refusal", async () => {
    const target = await server({
      name: "no-tool",
      turns: [{ reply: { kind: "text", text: "I would rather not plan this." } }],
    });
    const error = await plannerErrorOf(plan(target, "anthropic"));
    expect(error.kind).toBe("refused");
    expect(error.message).toContain("I would rather not plan this.");
  });

  it("refuses an empty prompt and a key no vendor would issue without calling anyone", async () => {
    const target = await server("plan-todo");
    expect(await plannerErrorOf(plan(target, "openai", { prompt: "   " }))).toMatchObject({
      kind: "invalid_input",
    });
    const spaced = await plannerErrorOf(plan(target, "openai", { apiKey: `${apiKey} \n` }));
    expect(spaced.kind).toBe("auth");
    expect(target.modelRequests()).toEqual([]);
  });

  it("uses the injected fetch", async () => {
    const target = await server("plan-todo");
    const seen: string[] = [];
    const recordingFetch: typeof fetch = (url, init) => {
      seen.push(String(url));
      return fetch(url, init);
    };
    await plan(target, "anthropic", { fetch: recordingFetch });
    expect(seen).toEqual([`${target.url}/v1/messages`]);
  });
});
