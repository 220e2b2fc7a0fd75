import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import type { GatewayProtocol } from "@/server/gateway/protocols";
import { type GatewayDeps, handleGatewayRequest } from "@/server/gateway/proxy";
import { issueRunToken } from "@/server/gateway/run-token";
import { SseParser } from "@/server/gateway/sse-parser";
import { credentialUpstreamResolver } from "@/server/gateway/upstream";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { createProject } from "@/server/operations/create-project";
import { type ModelServer, type ScenarioInput, startModelServer } from "../fakes/model-server";
import { type TestDatabase, testDatabases } from "../helpers/databases";

// The gateway in front of a server that speaks only Chat Completions (404 on /responses and /messages): Codex's
// Responses and Claude Code's Messages requests are translated there and back, and metered.

const secretKey = randomBytes(32);
const SANDBOX = "sbx_chattest";
const serverKey = "sk-local-compatible-key";

const scenario: ScenarioInput = {
  name: "chat-gateway",
  usage: { input: 2000, output: 120, cached: 500 },
  turns: [
    {
      when: { step: 0 },
      reasoning: "Look first.",
      reply: { kind: "shell", command: "ls", say: "Listing ✓" },
    },
    { when: { minStep: 1 }, reply: { kind: "text", text: "Done: the app is built." } },
  ],
};

function events(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  const out: Array<{ event: string; data: Record<string, unknown> }> = [];
  const parser = new SseParser({ onEvent: (event, data) => out.push({ event, data: JSON.parse(data) }) });
  parser.push(Buffer.from(text));
  parser.end();
  return out;
}

describe.each(testDatabases)("gateway to an OpenAI-compatible server on $name", (factory) => {
  let t: TestDatabase;
  let ctx: CredentialContext;
  let server: ModelServer;
  let unusage: ModelServer;
  let ada: { id: string };
  let bob: { id: string };

  beforeAll(async () => {
    t = await factory.open();
    server = await startModelServer({
      scenario,
      apis: ["chat"],
      auth: { apiKey: serverKey },
      models: ["qwen3-coder"],
    });
    unusage = await startModelServer({ scenario, apis: ["chat"], chat: { usage: false } });
    ctx = {
      key: secretKey,
      endpoints: {
        githubApiUrl: server.url,
        vercelApiUrl: server.url,
        tidbCloudApiUrl: server.url,
        openaiBaseUrl: server.openaiBaseUrl,
        anthropicBaseUrl: server.url,
        allowPrivateModelUrls: true,
      },
      platformDefaults: {},
      verify: (input) => verifyCredential(input, { endpoints: ctx.endpoints }),
    };
    ada = await createOperator(
      t.db,
      { email: "ada@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    bob = await createOperator(
      t.db,
      { email: "bob@example.com", password: "correct horse battery" },
      { bcryptCost: 4 },
    );
    const saved = await saveCredential(t.db, ctx, ada.id, {
      kind: "openai-compatible",
      baseUrl: server.openaiBaseUrl,
      apiKey: serverKey,
      price: "0.5,1.5",
    });
    expect(saved.verification).toMatchObject({ status: "verified" });
    expect(saved.verification.status === "verified" && saved.verification.detail).toContain(
      "1 model (qwen3-coder)",
    );
    // Bob's server reports no usage and names no price.
    await saveCredential(t.db, ctx, bob.id, {
      kind: "openai-compatible",
      baseUrl: unusage.openaiBaseUrl,
      apiKey: undefined,
    });
  });
  afterAll(async () => {
    await server.close();
    await unusage.close();
    await t.drop();
  });

  function deps(overrides: Partial<GatewayDeps> = {}): GatewayDeps {
    return {
      db: t.db,
      secretKey,
      resolveUpstream: credentialUpstreamResolver(t.db, ctx),
      budget: { tokens: 2_000_000, usdMicros: 5_000_000 },
      upstreamHeadersTimeoutMs: 5000,
      upstreamIdleTimeoutMs: 5000,
      ...overrides,
    };
  }

  async function newRun(agent: "codex" | "claude-code", userId = ada.id) {
    const created = await createProject(
      t.db,
      userId,
      { prompt: "build a todo app", agent, provider: "openai-compatible", model: "qwen3-coder" },
      { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" },
    );
    await t.db
      .updateTable("revision")
      .set({ status: "generating", sandbox_id: SANDBOX })
      .where("id", "=", created.revision.id)
      .execute();
    const token = issueRunToken(
      { revisionId: created.revision.id, sandboxId: SANDBOX, ttlMs: 3_600_000 },
      secretKey,
    );
    return { revisionId: created.revision.id, token };
  }

  function call(
    protocol: GatewayProtocol,
    token: string,
    body: unknown,
    overrides: Partial<GatewayDeps> = {},
  ) {
    const path = protocol === "openai-responses" ? "/gateway/v1/responses" : "/gateway/v1/messages?beta=true";
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (protocol === "openai-responses") headers.authorization = `Bearer ${token}`;
    else headers["x-api-key"] = token;
    const request = new Request(`http://kiln.test${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    return handleGatewayRequest({ protocol, request }, deps(overrides));
  }

  const codexBody = (input: unknown[]) => ({
    model: "qwen3-coder",
    instructions: "You are Codex.",
    stream: true,
    input,
    tools: [{ type: "function", name: "exec_command", parameters: { type: "object" } }],
  });

  async function usageRows(revisionId: string) {
    return t.db
      .selectFrom("usage")
      .selectAll()
      .where("revision_id", "=", revisionId)
      .orderBy("created_at")
      .execute();
  }

  it("translates a Codex turn both ways: a tool call, its result, the final text, with usage at the server's price", async () => {
    const run = await newRun("codex");
    const prompt = { type: "message", role: "user", content: [{ type: "input_text", text: "build it" }] };
    const first = await call("openai-responses", run.token, codexBody([prompt]));
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    const firstEvents = events(await first.text());
    const items = firstEvents.filter((e) => e.event === "response.output_item.done").map((e) => e.data.item);
    expect(items).toEqual([
      expect.objectContaining({
        type: "reasoning",
        content: [{ type: "reasoning_text", text: "Look first." }],
      }),
      expect.objectContaining({ type: "message", content: [expect.objectContaining({ text: "Listing ✓" })] }),
      expect.objectContaining({ type: "function_call", name: "exec_command", arguments: '{"cmd":"ls"}' }),
    ]);
    expect(firstEvents.at(-1)?.event).toBe("response.completed");
    const call0 = items[2] as { call_id: string };

    const second = await call(
      "openai-responses",
      run.token,
      codexBody([
        prompt,
        { type: "function_call", name: "exec_command", arguments: '{"cmd":"ls"}', call_id: call0.call_id },
        { type: "function_call_output", call_id: call0.call_id, output: "package.json" },
      ]),
    );
    const secondEvents = events(await second.text());
    expect(
      secondEvents
        .filter((e) => e.event === "response.output_text.delta")
        .map((e) => e.data.delta)
        .join(""),
    ).toBe("Done: the app is built.");

    // What the server saw: Chat Completions only, with the operator's key, the tool result as a tool message.
    const seen = server.modelRequests().slice(-2);
    expect(seen.map((request) => request.path)).toEqual(["/v1/chat/completions", "/v1/chat/completions"]);
    expect(seen[1]?.headers.authorization).toBe(`Bearer ${serverKey}`);
    expect(seen[1]?.body).toMatchObject({
      messages: [
        { role: "system", content: "You are Codex." },
        { role: "user", content: "build it" },
        { role: "assistant", tool_calls: [{ id: call0.call_id }] },
        { role: "tool", tool_call_id: call0.call_id, content: "package.json" },
      ],
      stream_options: { include_usage: true },
    });

    const rows = await usageRows(run.revisionId);
    expect(
      rows.map((row) => [
        row.provider,
        row.model,
        Number(row.input_tokens),
        Number(row.cached_tokens),
        Number(row.estimated),
      ]),
    ).toEqual([
      ["openai-compatible", "qwen3-coder", 2000, 500, 0],
      ["openai-compatible", "qwen3-coder", 2000, 500, 0],
    ]);
    // At the credential's $0.50 in / $1.50 out per 1M: 2000 × 0.5 + 120 × 1.5 = 1180 micro-USD a call.
    expect(rows.map((row) => Number(row.cost_usd_micros))).toEqual([1180, 1180]);
  });

  it("finishes an answer whose events the server sends in pieces (a chunk that completes no event)", async () => {
    // A real server's SSE events do not arrive one per read: a TCP segment may end mid-event. Cut every chunk
    // from the fake into 5-byte pieces, so most reads complete no event of the client's protocol.
    const inPieces: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const source = response.body;
      if (!source) return response;
      const pieces = source.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            for (let at = 0; at < chunk.byteLength; at += 5) controller.enqueue(chunk.subarray(at, at + 5));
          },
        }),
      );
      return new Response(pieces, { status: response.status, headers: response.headers });
    };
    const run = await newRun("codex");
    const prompt = { type: "message", role: "user", content: [{ type: "input_text", text: "build it" }] };
    const answer = await call("openai-responses", run.token, codexBody([prompt]), { fetch: inPieces });
    const text = await Promise.race([
      answer.text(),
      new Promise<string>((resolve) => setTimeout(() => resolve("(the answer never ended)"), 5000)),
    ]);
    expect(events(text).at(-1)?.event).toBe("response.completed");
    expect(await usageRows(run.revisionId)).toHaveLength(1);
  });

  it("translates a Claude Code turn: tool_use out, tool_result back, message events with the stop reason", async () => {
    const run = await newRun("claude-code");
    const body = {
      model: "qwen3-coder",
      max_tokens: 4096,
      stream: true,
      system: [{ type: "text", text: "You are Claude Code." }],
      tools: [
        { name: "Bash", input_schema: { type: "object", properties: { command: { type: "string" } } } },
      ],
      messages: [{ role: "user", content: [{ type: "text", text: "build it" }] }],
    };
    const first = events(await (await call("anthropic-messages", run.token, body)).text());
    const toolStart = first.find(
      (e) =>
        e.event === "content_block_start" && (e.data.content_block as { type: string }).type === "tool_use",
    );
    expect(toolStart?.data.content_block).toMatchObject({ type: "tool_use", name: "Bash" });
    const json = first
      .filter(
        (e) =>
          e.event === "content_block_delta" && (e.data.delta as { type: string }).type === "input_json_delta",
      )
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual({ command: "ls", description: "Run a command" });
    expect(first.find((e) => e.event === "message_delta")?.data).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 1500, cache_read_input_tokens: 500, output_tokens: 120 },
    });
    const id = (toolStart?.data.content_block as { id: string } | undefined)?.id ?? "";
    const second = events(
      await (
        await call("anthropic-messages", run.token, {
          ...body,
          messages: [
            ...body.messages,
            {
              role: "assistant",
              content: [{ type: "tool_use", id, name: "Bash", input: { command: "ls" } }],
            },
            { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "package.json" }] },
          ],
        })
      ).text(),
    );
    expect(second.find((e) => e.event === "content_block_delta")?.data.delta).toEqual({
      type: "text_delta",
      text: "Done: the app is built.",
    });
    expect(second.find((e) => e.event === "message_delta")?.data).toMatchObject({
      delta: { stop_reason: "end_turn" },
    });
    expect(second.at(-1)?.event).toBe("message_stop");
  });

  it("refuses a model with no price, and once priced by the platform, estimates and marks usage the server did not report", async () => {
    const run = await newRun("claude-code", bob.id);
    const body = {
      model: "qwen3-coder",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "build it" }],
    };
    const refused = await call("anthropic-messages", run.token, body);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "model_unpriced" } });

    const priced = await call("anthropic-messages", run.token, body, {
      models: {
        extraModels: [],
        defaultPrice: { input: 1_000_000, cachedInput: 1_000_000, output: 2_000_000 },
      },
    });
    expect(priced.status).toBe(200);
    await priced.text();
    const rows = await usageRows(run.revisionId);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.estimated)).toBe(1);
    expect(Number(rows[0]?.input_tokens)).toBeGreaterThan(0);
    expect(Number(rows[0]?.cost_usd_micros)).toBeGreaterThan(0);
    const revision = await t.db
      .selectFrom("revision")
      .select("usage_estimated")
      .where("id", "=", run.revisionId)
      .executeTakeFirstOrThrow();
    expect(Number(revision.usage_estimated)).toBe(1);
  });

  it("shows the server's error in the CLI's own shape", async () => {
    const run = await newRun("claude-code");
    server.useScenario({
      name: "fails",
      turns: [{ reply: { kind: "error", status: 404, message: "model 'qwen3-coder' not found" } }],
    });
    try {
      const response = await call("anthropic-messages", run.token, {
        model: "qwen3-coder",
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: "build it" }],
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        type: "error",
        error: {
          type: "not_found_error",
          message: expect.stringContaining("model 'qwen3-coder' not found"),
        },
      });
    } finally {
      server.useScenario(scenario);
    }
  });

  it("has no /responses or /messages: the fake speaks Chat Completions only", async () => {
    const response = await fetch(`${server.openaiBaseUrl}/responses`, { method: "POST", body: "{}" });
    expect(response.status).toBe(404);
  });
});
