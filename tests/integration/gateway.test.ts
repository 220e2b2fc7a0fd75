import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import type { GatewayProtocol } from "@/server/gateway/protocols";
import { type GatewayDeps, handleGatewayRequest } from "@/server/gateway/proxy";
import { issueRunToken } from "@/server/gateway/run-token";
import { credentialUpstreamResolver } from "@/server/gateway/upstream";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { createProject } from "@/server/operations/create-project";
import { startModelServer } from "../fakes/model-server";
import {
  anthropicMessageEvents,
  type FakeUpstream,
  openaiResponseEvents,
  type SseEvent,
  sseReply,
  sseText,
  startFakeUpstream,
  type UpstreamRecord,
} from "../fakes/upstream-models";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { waitUntil } from "../helpers/wait-until";

const operatorOpenAIKey = "sk-proj-OPERATOR0penAIkey7Hq2Zr9Lm4Xw";
const operatorAnthropicKey = "sk-ant-api03-OPERATORanthr0picKey5Tn8Jk";
const platformOpenAIKey = "sk-proj-PLATFORMopenaiKey3Vb6Nm1Qs";
const secretKey = randomBytes(32);
const SANDBOX = "sbx_gatewaytest";
/** Text with multi-byte characters, so chunk cuts land inside UTF-8 sequences. */
const text = "Héllo, wörld ✓ — here is your app 🚀. Done.";

let upstream: FakeUpstream;
/** A port where nothing listens any more. */
let closedUrl: string;

beforeAll(async () => {
  upstream = await startFakeUpstream({
    openaiKeys: [operatorOpenAIKey, platformOpenAIKey],
    anthropicKeys: [operatorAnthropicKey],
  });
  const closed = await startFakeUpstream({ openaiKeys: [], anthropicKeys: [] });
  await closed.close();
  closedUrl = closed.url;
});
afterAll(async () => {
  await upstream.close();
});
afterEach(() => {
  upstream.script(undefined);
});

function bytesOf(events: SseEvent[]): Buffer {
  return Buffer.from(sseText(events));
}

describe.each(testDatabases)("model gateway on $name", (factory) => {
  let t: TestDatabase;
  let ctx: CredentialContext;
  /** Has their own OpenAI and Anthropic keys (pointing at the fake upstream). */
  let ada: { id: string };
  /** Has none: OpenAI falls back to the platform default, Anthropic has nothing. */
  let grace: { id: string };

  beforeAll(async () => {
    t = await factory.open();
    ctx = {
      key: secretKey,
      endpoints: {
        githubApiUrl: closedUrl,
        vercelApiUrl: closedUrl,
        tidbCloudApiUrl: closedUrl,
        openaiBaseUrl: upstream.openaiBaseUrl,
        anthropicBaseUrl: upstream.anthropicBaseUrl,
        // The operators' keys point at the fake upstream on 127.0.0.1.
        allowPrivateModelUrls: true,
      },
      platformDefaults: { openai: { apiKey: platformOpenAIKey, baseUrl: undefined } },
      verify: (input) => verifyCredential(input, { endpoints: ctx.endpoints }),
    };
    const password = "correct horse battery";
    ada = await createOperator(t.db, { email: "ada@example.com", password }, { bcryptCost: 4 });
    grace = await createOperator(t.db, { email: "grace@example.com", password }, { bcryptCost: 4 });
    const openai = await saveCredential(t.db, ctx, ada.id, {
      kind: "openai",
      apiKey: operatorOpenAIKey,
      baseUrl: upstream.openaiBaseUrl,
    });
    const anthropic = await saveCredential(t.db, ctx, ada.id, {
      kind: "anthropic",
      apiKey: operatorAnthropicKey,
      baseUrl: upstream.anthropicBaseUrl,
    });
    expect([openai.verification.status, anthropic.verification.status]).toEqual(["verified", "verified"]);
  });
  afterAll(async () => {
    await t.drop();
  });

  function deps(overrides: Partial<GatewayDeps> = {}): GatewayDeps {
    return {
      db: t.db,
      secretKey,
      resolveUpstream: credentialUpstreamResolver(t.db, ctx),
      budget: { tokens: 2_000_000, usdMicros: 5_000_000 },
      upstreamHeadersTimeoutMs: 2000,
      upstreamIdleTimeoutMs: 2000,
      ...overrides,
    };
  }

  type RunOptions = {
    userId?: string;
    status?: string;
    budgetTokens?: number | null;
    budgetUsdMicros?: number | null;
    sandboxId?: string | null;
    /** Whose run: a Codex run (OpenAI Responses, model gpt-5) or a Claude Code one (Anthropic, claude-sonnet-4-5). */
    agent?: "codex" | "claude-code";
    /** The revision's model; default gpt-5 for Codex, claude-sonnet-4-5 for Claude Code. */
    model?: string | null;
  };

  /** A project with one revision in flight (or in `status`), and a run token for it. */
  async function newRun(options: RunOptions = {}) {
    const created = await createProject(
      t.db,
      options.userId ?? ada.id,
      { prompt: "build a todo app" },
      { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" },
    );
    await t.db
      .updateTable("project")
      .set({
        budget_tokens: options.budgetTokens ?? null,
        budget_usd_micros: options.budgetUsdMicros ?? null,
      })
      .where("id", "=", created.project.id)
      .execute();
    await t.db
      .updateTable("revision")
      .set({
        status: options.status ?? "generating",
        sandbox_id: options.sandboxId === undefined ? SANDBOX : options.sandboxId,
        agent: options.agent ?? "codex",
        model:
          options.model !== undefined
            ? options.model
            : options.agent === "claude-code"
              ? "claude-sonnet-4-5"
              : "gpt-5",
      })
      .where("id", "=", created.revision.id)
      .execute();
    const token = issueRunToken(
      { revisionId: created.revision.id, sandboxId: SANDBOX, ttlMs: 3_600_000 },
      secretKey,
    );
    return { projectId: created.project.id, revisionId: created.revision.id, token };
  }

  const paths: Record<GatewayProtocol, string> = {
    "openai-responses": "/gateway/v1/responses",
    "anthropic-messages": "/gateway/v1/messages",
  };

  function call(
    protocol: GatewayProtocol,
    init: {
      token?: string;
      headers?: Record<string, string>;
      body?: string;
      search?: string;
      signal?: AbortSignal;
    },
    overrides: Partial<GatewayDeps> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
    if (init.token) {
      if (protocol === "openai-responses") headers.authorization = `Bearer ${init.token}`;
      else headers["x-api-key"] = init.token;
    }
    const model = protocol === "openai-responses" ? "gpt-5" : "claude-sonnet-4-5";
    const request = new Request(`http://kiln.test${paths[protocol]}${init.search ?? ""}`, {
      method: "POST",
      headers,
      body: init.body ?? JSON.stringify({ model, stream: true, input: "hi" }),
      signal: init.signal,
    });
    return handleGatewayRequest({ protocol, request }, deps(overrides));
  }

  async function usageRows(revisionId: string) {
    return t.db.selectFrom("usage").selectAll().where("revision_id", "=", revisionId).execute();
  }

  async function totals(revisionId: string) {
    const row = await t.db
      .selectFrom("revision")
      .select(["input_tokens", "output_tokens", "cached_tokens", "cost_usd_micros"])
      .where("id", "=", revisionId)
      .executeTakeFirstOrThrow();
    return {
      input: Number(row.input_tokens),
      output: Number(row.output_tokens),
      cached: Number(row.cached_tokens),
      cost: Number(row.cost_usd_micros),
    };
  }

  function lastUpstreamRequest(): UpstreamRecord {
    const last = upstream.requests.at(-1);
    if (!last) throw new Error("the upstream saw no request");
    return last;
  }

  describe("streaming", () => {
    it("passes an OpenAI stream through byte for byte and meters its usage", async () => {
      const run = await newRun();
      const events = openaiResponseEvents({
        model: "gpt-5-2025-08-07",
        text,
        usage: { input: 1200, cached: 1000, output: 300 },
      });
      // 7-byte chunks cut lines, JSON and multi-byte characters; the delay keeps them separate packets.
      upstream.script(() => sseReply(events, { chunkBytes: 7, delayMs: 1 }));

      const response = await call("openai-responses", { token: run.token });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const received = Buffer.from(await response.arrayBuffer());
      expect(received.equals(bytesOf(events))).toBe(true);

      const rows = await usageRows(run.revisionId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        project_id: run.projectId,
        provider: "openai",
        model: "gpt-5-2025-08-07",
      });
      expect(Number(rows[0]?.input_tokens)).toBe(1200);
      expect(Number(rows[0]?.cached_tokens)).toBe(1000);
      expect(Number(rows[0]?.output_tokens)).toBe(300);
      // gpt-5: 200 fresh × $1.25 + 1000 cached × $0.125 + 300 out × $10 per 1M = $0.003375
      expect(Number(rows[0]?.cost_usd_micros)).toBe(3375);
      expect(await totals(run.revisionId)).toEqual({ input: 1200, output: 300, cached: 1000, cost: 3375 });

      const seen = lastUpstreamRequest();
      expect(seen.path).toBe("/v1/responses");
      expect(seen.headers.authorization).toBe(`Bearer ${operatorOpenAIKey}`);
      expect(JSON.parse(seen.body)).toEqual({ model: "gpt-5", stream: true, input: "hi" });
    });

    it("passes an Anthropic stream through, keeps ?beta=true and the version headers, meters cache use", async () => {
      const run = await newRun({ agent: "claude-code" });
      const events = anthropicMessageEvents({
        model: "claude-sonnet-4-5-20250929",
        text,
        usage: { input: 50, cached: 2000, cacheWrite: 500, output: 400 },
      });
      upstream.script(() => sseReply(events, { chunkBytes: 5 }));

      const response = await call("anthropic-messages", {
        token: run.token,
        search: "?beta=true",
        headers: {
          "anthropic-version": "2023-06-01",
          "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
          "user-agent": "claude-cli/2.0.0 (external, sdk-cli)",
        },
      });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(bytesOf(events))).toBe(true);

      const seen = lastUpstreamRequest();
      expect(seen.path).toBe("/v1/messages?beta=true");
      expect(seen.headers["x-api-key"]).toBe(operatorAnthropicKey);
      expect(seen.headers["anthropic-version"]).toBe("2023-06-01");
      expect(seen.headers["anthropic-beta"]).toBe("claude-code-20250219,interleaved-thinking-2025-05-14");
      expect(seen.headers["user-agent"]).toBe("claude-cli/2.0.0 (external, sdk-cli)");

      const rows = await usageRows(run.revisionId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5-20250929" });
      // input = 50 fresh + 2000 cache reads + 500 cache writes
      expect(await totals(run.revisionId)).toEqual({
        input: 2550,
        output: 400,
        cached: 2000,
        // 50 × $3 + 2000 × $0.30 + 500 × $3.75 + 400 × $15 per 1M = $0.008625
        cost: 8625,
      });
    });

    it("adds up several calls of one run", async () => {
      const run = await newRun({ agent: "claude-code" });
      upstream.script(() =>
        sseReply(
          anthropicMessageEvents({ model: "claude-haiku-4-5", text: "ok", usage: { input: 10, output: 5 } }),
        ),
      );
      for (let i = 0; i < 3; i++) {
        const response = await call("anthropic-messages", { token: run.token });
        await response.arrayBuffer();
      }
      expect(await usageRows(run.revisionId)).toHaveLength(3);
      // haiku 4.5: 10 × $1 + 5 × $5 per 1M = 35 micro-USD per call
      expect(await totals(run.revisionId)).toEqual({ input: 30, output: 15, cached: 0, cost: 105 });
    });

    it("meters a non-streaming JSON answer", async () => {
      const run = await newRun();
      const answer = {
        id: "resp_1",
        object: "response",
        model: "gpt-4.1-mini-2025-04-14",
        status: "completed",
        output: [],
        usage: { input_tokens: 1000, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1000 },
      };
      upstream.script(() => ({
        status: 200,
        headers: { "content-type": "application/json" },
        chunks: [JSON.stringify(answer)],
      }));
      const response = await call("openai-responses", { token: run.token });
      expect(await response.json()).toEqual(answer);
      // gpt-4.1-mini: 1000 × $0.40 + 1000 × $1.60 per 1M
      expect(await totals(run.revisionId)).toEqual({ input: 1000, output: 1000, cached: 0, cost: 2000 });
    });

    it("uses the platform default key and base URL for an operator without a credential", async () => {
      const run = await newRun({ userId: grace.id });
      const response = await call("openai-responses", { token: run.token });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(lastUpstreamRequest().headers.authorization).toBe(`Bearer ${platformOpenAIKey}`);
      expect(await usageRows(run.revisionId)).toHaveLength(1);
    });

    it("refuses with 403 when neither the operator nor the platform has a key for the vendor", async () => {
      const run = await newRun({ userId: grace.id, agent: "claude-code" });
      const before = upstream.requests.length;
      const response = await call("anthropic-messages", { token: run.token });
      expect(response.status).toBe(403);
      const body = await response.json();
      expect(body).toMatchObject({
        type: "error",
        error: { type: "permission_error", code: "no_credential" },
      });
      expect(body.error.message).toContain("Anthropic API key");
      expect(upstream.requests.length).toBe(before);
    });
  });

  describe("secrets", () => {
    it("never shows the operator's key to the client or stores it, and never forwards the run token", async () => {
      const runs = {
        "openai-responses": await newRun(),
        "anthropic-messages": await newRun({ agent: "claude-code" }),
      };
      const texts: string[] = [];
      for (const protocol of ["openai-responses", "anthropic-messages"] as const) {
        const run = runs[protocol];
        const response = await call(protocol, {
          token: run.token,
          headers: { cookie: "kiln_session=abc", "anthropic-version": "2023-06-01" },
        });
        expect(response.status).toBe(200);
        texts.push(await response.text(), JSON.stringify([...response.headers]));
        const seen = lastUpstreamRequest();
        expect(JSON.stringify(seen.headers)).not.toContain(run.token);
        expect(seen.headers.cookie).toBeUndefined();
      }
      const ids = Object.values(runs).map((run) => run.revisionId);
      const rows = [
        ...(await t.db.selectFrom("usage").selectAll().where("revision_id", "in", ids).execute()),
        ...(await t.db.selectFrom("revision").selectAll().where("id", "in", ids).execute()),
      ];
      expect(rows).toHaveLength(4);
      for (const haystack of [...texts, JSON.stringify(rows)]) {
        expect(haystack).not.toContain(operatorOpenAIKey);
        expect(haystack).not.toContain(operatorAnthropicKey);
      }
    });

    it("takes the run token from Authorization: Bearer on the Anthropic route too (ANTHROPIC_AUTH_TOKEN)", async () => {
      const run = await newRun({ agent: "claude-code" });
      const response = await call("anthropic-messages", {
        headers: { authorization: `Bearer ${run.token}`, "anthropic-version": "2023-06-01" },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const seen = lastUpstreamRequest();
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers["x-api-key"]).toBe(operatorAnthropicKey);
    });

    it("scrubs the key from an upstream error that echoes it", async () => {
      const run = await newRun();
      upstream.script((request) => ({
        status: 401,
        headers: { "content-type": "application/json", "x-echo": `key=${request.header("authorization")}` },
        chunks: [
          JSON.stringify({
            error: {
              message: `Incorrect API key provided: ${request.header("authorization")?.slice(7)}.`,
              type: "invalid_request_error",
              code: "invalid_api_key",
            },
          }),
        ],
      }));
      const response = await call("openai-responses", { token: run.token });
      expect(response.status).toBe(401);
      const body = await response.text();
      expect(body).toContain("Incorrect API key provided: [redacted].");
      expect(body).not.toContain(operatorOpenAIKey);
      expect(response.headers.get("x-echo")).toBe("key=Bearer [redacted]");
      expect(await usageRows(run.revisionId)).toHaveLength(0);
    });
  });

  describe("run tokens", () => {
    async function expectRefused(protocol: GatewayProtocol, response: Response, message?: string) {
      expect(response.status).toBe(401);
      expect(response.headers.get("x-should-retry")).toBe("false");
      const body = await response.json();
      expect(body.error.code).toBe("unauthorized:token");
      expect(body.error.type).toBe("authentication_error");
      if (protocol === "anthropic-messages") expect(body.type).toBe("error");
      if (message) expect(body.error.message).toContain(message);
    }

    it("refuses a request without a token, or with a token this server did not sign", async () => {
      const run = await newRun();
      const before = upstream.requests.length;
      const [payload = "", signature = ""] = run.token.slice(4).split(".");
      const other = await newRun();
      const otherPayload = other.token.slice(4).split(".")[0];
      const forged = [
        "kiln_forged_token_value",
        `krt_${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`,
        `krt_${otherPayload}.${signature}`,
        `krt_${payload}`,
        issueRunToken({ revisionId: run.revisionId, sandboxId: SANDBOX, ttlMs: 60_000 }, randomBytes(32)),
      ];
      for (const protocol of ["openai-responses", "anthropic-messages"] as const) {
        await expectRefused(protocol, await call(protocol, {}), "run token is required");
        for (const token of forged) await expectRefused(protocol, await call(protocol, { token }));
      }
      expect(upstream.requests.length).toBe(before);
    });

    it("refuses an expired token", async () => {
      const run = await newRun();
      const token = issueRunToken({ revisionId: run.revisionId, sandboxId: SANDBOX, ttlMs: 1000 }, secretKey);
      const later = Date.now() + 1001;
      await expectRefused(
        "openai-responses",
        await call("openai-responses", { token }, { now: () => later }),
        "expired",
      );
    });

    it("refuses the token of a run that ended, and of another sandbox", async () => {
      const before = upstream.requests.length;
      for (const status of ["finished", "failed", "cancelled"]) {
        const run = await newRun({ status });
        await expectRefused(
          "anthropic-messages",
          await call("anthropic-messages", { token: run.token }),
          status,
        );
      }
      const moved = await newRun({ sandboxId: "sbx_another" });
      await expectRefused(
        "openai-responses",
        await call("openai-responses", { token: moved.token }),
        "another sandbox",
      );
      const gone = issueRunToken(
        { revisionId: "rev_doesnotexist", sandboxId: SANDBOX, ttlMs: 60_000 },
        secretKey,
      );
      await expectRefused(
        "openai-responses",
        await call("openai-responses", { token: gone }),
        "no longer exists",
      );
      expect(upstream.requests.length).toBe(before);
    });

    it("accepts a token before the revision has a sandbox recorded", async () => {
      const run = await newRun({ sandboxId: null });
      const response = await call("openai-responses", { token: run.token });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    });
  });

  describe("what a run token opens", () => {
    async function expectForbidden(response: Response, code: string, message: string) {
      expect(response.status).toBe(code === "model_missing" ? 400 : 403);
      expect(response.headers.get("x-should-retry")).toBe("false");
      const body = await response.json();
      expect(body.error.code).toBe(code);
      expect(body.error.message).toContain(message);
    }

    it("refuses a Codex run's token on the Anthropic route and a Claude Code run's token on the OpenAI route", async () => {
      const before = upstream.requests.length;
      const codex = await newRun();
      const claude = await newRun({ agent: "claude-code" });
      await expectForbidden(
        await call("anthropic-messages", { token: codex.token }),
        "vendor_not_allowed",
        "belongs to a Codex run; it cannot call the Anthropic API",
      );
      await expectForbidden(
        await call("openai-responses", {
          token: claude.token,
          body: JSON.stringify({ model: "claude-sonnet-4-5", input: "hi" }),
        }),
        "vendor_not_allowed",
        "belongs to a Claude Code run; it cannot call the OpenAI API",
      );
      expect(upstream.requests.length).toBe(before);
      expect(await usageRows(codex.revisionId)).toEqual([]);
    });

    it("serves only the run's model (the revision's, else the project's, else the agent's default)", async () => {
      const before = upstream.requests.length;
      const run = await newRun();
      for (const model of ["gpt-5-pro", "o3", "GPT-5", "gpt-5 "]) {
        await expectForbidden(
          await call("openai-responses", { token: run.token, body: JSON.stringify({ model, input: "hi" }) }),
          "model_not_allowed",
          'This run may only use the model "gpt-5"',
        );
      }
      await expectForbidden(
        await call("openai-responses", { token: run.token, body: JSON.stringify({ input: "hi" }) }),
        "model_missing",
        "names no model",
      );
      await expectForbidden(
        await call("openai-responses", { token: run.token, body: "not json" }),
        "model_missing",
        "names no model",
      );
      // No revision model: the agent's default (what the runner was told) is the run's model.
      const byDefault = await newRun({ agent: "claude-code", model: null });
      await expectForbidden(
        await call("anthropic-messages", { token: byDefault.token }),
        "model_not_allowed",
        'only use the model "claude-sonnet-5"',
      );
      expect(upstream.requests.length).toBe(before);

      const ok = await call("anthropic-messages", {
        token: byDefault.token,
        body: JSON.stringify({ model: "claude-sonnet-5", stream: true, max_tokens: 10, messages: [] }),
      });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    });

    it("serves the platform's extra models too", async () => {
      const run = await newRun();
      const models = { extraModels: ["gpt-5-mini"], defaultPrice: undefined };
      const body = JSON.stringify({ model: "gpt-5-mini", stream: true, input: "hi" });
      const response = await call("openai-responses", { token: run.token, body }, { models });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      await expectForbidden(
        await call(
          "openai-responses",
          { token: run.token, body: JSON.stringify({ model: "o3", input: "hi" }) },
          { models },
        ),
        "model_not_allowed",
        '(or "gpt-5-mini")',
      );
    });

    it("refuses a model without a price unless the platform sets a default price, then meters at it", async () => {
      const before = upstream.requests.length;
      const run = await newRun({ model: "llama3.1:8b" });
      const body = JSON.stringify({ model: "llama3.1:8b", stream: true, input: "hi" });
      await expectForbidden(
        await call("openai-responses", { token: run.token, body }),
        "model_unpriced",
        'no price for the model "llama3.1:8b"',
      );
      expect(upstream.requests.length).toBe(before);

      upstream.script(() =>
        sseReply(
          openaiResponseEvents({ model: "llama3.1:8b", text: "ok", usage: { input: 1000, output: 500 } }),
        ),
      );
      const priced = {
        extraModels: [],
        defaultPrice: { input: 2_000_000, cachedInput: 2_000_000, output: 4_000_000 },
      };
      const response = await call("openai-responses", { token: run.token, body }, { models: priced });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      // 1000 × $2 + 500 × $4 per 1M = 4000 micro-USD
      expect(await totals(run.revisionId)).toMatchObject({ input: 1000, output: 500, cost: 4000 });
    });
  });

  describe("where it connects", () => {
    it("re-checks an operator's base URL before each request and refuses a private address, whatever it was when saved", async () => {
      const strict: CredentialContext = {
        ...ctx,
        endpoints: { ...ctx.endpoints, allowPrivateModelUrls: false },
      };
      const resolveUpstream = credentialUpstreamResolver(t.db, strict);
      const before = upstream.requests.length;
      // Saved while it resolved elsewhere (or while the platform allowed it); now it names this machine.
      const mallory = await createOperator(
        t.db,
        { email: `mallory-${randomBytes(3).toString("hex")}@example.com`, password: "correct horse battery" },
        { bcryptCost: 4 },
      );
      const port = new URL(upstream.openaiBaseUrl).port;
      await saveCredential(t.db, ctx, mallory.id, {
        kind: "openai",
        apiKey: operatorOpenAIKey,
        baseUrl: `https://localhost:${port}/v1`,
      });
      for (const userId of [ada.id, mallory.id]) {
        const run = await newRun({ userId });
        const response = await call("openai-responses", { token: run.token }, { resolveUpstream });
        expect(response.status).toBe(403);
        const body = await response.json();
        expect(body.error.code).toBe("upstream_not_allowed");
        expect(body.error.message).toMatch(/The OpenAI base URL in the operator's Settings is not allowed/);
      }
      expect(upstream.requests.length).toBe(before);

      // The platform's own base URL (its environment, here 127.0.0.1) is the platform's choice and still works.
      const platformRun = await newRun({ userId: grace.id });
      const response = await call("openai-responses", { token: platformRun.token }, { resolveUpstream });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    });
  });

  describe("budget", () => {
    it("refuses the next request once the run's token budget is used, without calling the upstream", async () => {
      const run = await newRun({ budgetTokens: 1000 });
      upstream.script(() =>
        sseReply(openaiResponseEvents({ model: "gpt-5", text: "ok", usage: { input: 1200, output: 300 } })),
      );
      const first = await call("openai-responses", { token: run.token });
      expect(first.status).toBe(200);
      await first.arrayBuffer();

      const before = upstream.requests.length;
      const second = await call("openai-responses", { token: run.token });
      expect(second.status).toBe(429);
      expect(second.headers.get("x-should-retry")).toBe("false");
      const body = await second.json();
      expect(body.error.type).toBe("budget_exceeded");
      expect(body.error.code).toBe("budget_exceeded");
      expect(body.error.message).toContain(
        "Budget exceeded: this run used its budget of 1,000 tokens / $5.00",
      );
      expect(body.error.message).toContain("so far 1,500 tokens");
      expect(upstream.requests.length).toBe(before);
      expect(await usageRows(run.revisionId)).toHaveLength(1);
    });

    it("refuses once the money budget is used (Anthropic error shape)", async () => {
      const run = await newRun({ budgetUsdMicros: 3000, agent: "claude-code" });
      upstream.script(() =>
        sseReply(
          anthropicMessageEvents({
            model: "claude-opus-4-1",
            text: "ok",
            usage: { input: 100, output: 100 },
          }),
        ),
      );
      // opus 4.1: 100 × $15 + 100 × $75 per 1M = 9000 micro-USD, over the 3000 budget
      await (await call("anthropic-messages", { token: run.token })).arrayBuffer();
      expect((await totals(run.revisionId)).cost).toBe(9000);

      const before = upstream.requests.length;
      const refused = await call("anthropic-messages", { token: run.token });
      expect(refused.status).toBe(429);
      const body = await refused.json();
      expect(body).toMatchObject({ type: "error", error: { type: "budget_exceeded" } });
      expect(body.error.message).toContain("budget of 2,000,000 tokens / $0.0030 (so far 200 tokens");
      expect(body.error.message).toContain("and $0.0090)");
      expect(upstream.requests.length).toBe(before);
    });

    it("applies the platform default when the project sets none, and does not count cache reads", async () => {
      const run = await newRun();
      upstream.script(() =>
        sseReply(
          openaiResponseEvents({
            model: "gpt-5",
            text: "ok",
            usage: { input: 5000, cached: 4900, output: 50 },
          }),
        ),
      );
      const small = { budget: { tokens: 400, usdMicros: 0 } };
      await (await call("openai-responses", { token: run.token }, small)).arrayBuffer();
      // 100 fresh + 50 output = 150 of 400: still allowed.
      const second = await call("openai-responses", { token: run.token }, small);
      expect(second.status).toBe(200);
      await second.arrayBuffer();
      const third = await call("openai-responses", { token: run.token }, small);
      expect(third.status).toBe(200);
      await third.arrayBuffer();
      // 450 of 400 now.
      const fourth = await call("openai-responses", { token: run.token }, small);
      expect(fourth.status).toBe(429);
      expect((await fourth.json()).error.message).toContain("budget of 400 tokens (so far 450 tokens");
    });
  });

  describe("upstream failures", () => {
    it("passes a vendor error through with its status and body", async () => {
      const run = await newRun({ agent: "claude-code" });
      const codexRun = await newRun();
      const errorBody = JSON.stringify({
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded" },
        request_id: "req_011",
      });
      upstream.script(() => ({
        status: 529,
        headers: { "content-type": "application/json", "request-id": "req_011" },
        chunks: [errorBody],
      }));
      const response = await call("anthropic-messages", { token: run.token });
      expect(response.status).toBe(529);
      expect(response.headers.get("request-id")).toBe("req_011");
      expect(await response.text()).toBe(errorBody);

      upstream.script(() => ({
        status: 500,
        headers: { "content-type": "text/plain" },
        chunks: ["upstream broke"],
      }));
      const five = await call("openai-responses", { token: codexRun.token });
      expect(five.status).toBe(500);
      expect(await five.text()).toBe("upstream broke");
      expect(await usageRows(run.revisionId)).toHaveLength(0);
    });

    it("answers 504 in bounded time when the upstream never answers, and hangs up on it", async () => {
      const run = await newRun();
      upstream.script(() => ({ hang: true }));
      const started = Date.now();
      const response = await call(
        "openai-responses",
        { token: run.token },
        { upstreamHeadersTimeoutMs: 300 },
      );
      // The 300 ms limit answered, as the message says; the bound is only against a hang (the default is 5 minutes)
      // and leaves a loaded machine room.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(response.status).toBe(504);
      const body = await response.json();
      expect(body.error).toMatchObject({ type: "upstream_timeout", code: "upstream_timeout" });
      expect(body.error.message).toContain("did not answer within 300 ms.");
      const seen = lastUpstreamRequest();
      await waitUntil(() => seen.clientLeft, "the gateway to hang up on the upstream");
      expect(await usageRows(run.revisionId)).toHaveLength(0);
    });

    it("answers 502 when the upstream cannot be reached, without the key in the message", async () => {
      const run = await newRun({ agent: "claude-code" });
      const response = await call(
        "anthropic-messages",
        { token: run.token },
        { resolveUpstream: async () => ({ apiKey: operatorAnthropicKey, baseUrl: closedUrl }) },
      );
      expect(response.status).toBe(502);
      const body = await response.json();
      expect(body).toMatchObject({ type: "error", error: { type: "upstream_unavailable" } });
      expect(body.error.message).toContain("Could not reach the Anthropic API at 127.0.0.1");
      expect(JSON.stringify(body)).not.toContain(operatorAnthropicKey);
      expect(await usageRows(run.revisionId)).toHaveLength(0);
    });

    it("cuts the stream when the upstream goes silent mid-answer", async () => {
      const run = await newRun();
      const events = openaiResponseEvents({ model: "gpt-5", text, usage: { input: 1, output: 1 } });
      upstream.script(() => ({ ...sseReply(events.slice(0, 2)), keepOpen: true }));
      const response = await call("openai-responses", { token: run.token }, { upstreamIdleTimeoutMs: 300 });
      expect(response.status).toBe(200);
      const started = Date.now();
      await expect(response.arrayBuffer()).rejects.toThrow();
      // Cut by the 300 ms idle limit, not the 5-minute default; the margin is for a loaded machine.
      expect(Date.now() - started).toBeLessThan(10_000);
      const seen = lastUpstreamRequest();
      await waitUntil(() => seen.clientLeft, "the gateway to hang up on the upstream");
    });
  });

  describe("client disconnects", () => {
    it("aborts the upstream request when the client stops reading, and keeps the usage seen so far", async () => {
      const run = await newRun({ agent: "claude-code" });
      const events = anthropicMessageEvents({
        model: "claude-sonnet-4-5",
        text,
        usage: { input: 700, output: 1 },
      });
      upstream.script(() => ({ ...sseReply(events.slice(0, 3)), keepOpen: true }));
      const response = await call("anthropic-messages", { token: run.token });
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      const first = await reader.read();
      expect(first.done).toBe(false);
      await reader.cancel();
      const seen = lastUpstreamRequest();
      await waitUntil(() => seen.clientLeft, "the upstream request to be aborted");
      expect(await totals(run.revisionId)).toMatchObject({ input: 700, output: 1 });
    });

    it("aborts the upstream request when the client's request is aborted", async () => {
      const run = await newRun();
      const events = openaiResponseEvents({ model: "gpt-5", text, usage: { input: 1, output: 1 } });
      upstream.script(() => ({ ...sseReply(events.slice(0, 2)), keepOpen: true }));
      const client = new AbortController();
      const response = await call("openai-responses", { token: run.token, signal: client.signal });
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      await reader.read();
      client.abort();
      const seen = lastUpstreamRequest();
      await waitUntil(() => seen.clientLeft, "the upstream request to be aborted");
      await expect(reader.read()).rejects.toThrow();
      // No response.completed arrived, so there is nothing to meter.
      expect(await usageRows(run.revisionId)).toHaveLength(0);
    });
  });

  it("meters the streams of the scripted model server (an independent rendering of both wire formats)", async () => {
    const server = await startModelServer({
      scenario: {
        name: "gateway-usage",
        usage: { input: 3000, output: 250, cached: 1000 },
        turns: [{ reply: { kind: "text", text: "Done." } }],
      },
    });
    try {
      const run = await newRun();
      const claudeRun = await newRun({ agent: "claude-code" });
      const overrides: Partial<GatewayDeps> = {
        resolveUpstream: async (_userId, provider) => ({
          apiKey: "sk-model-server-key-0000",
          baseUrl: provider === "openai" ? server.openaiBaseUrl : server.url,
        }),
      };
      const openai = await call(
        "openai-responses",
        {
          token: run.token,
          body: JSON.stringify({
            model: "gpt-5",
            stream: true,
            input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "build it" }] }],
          }),
        },
        overrides,
      );
      expect(openai.status).toBe(200);
      expect(await openai.text()).toContain("response.completed");
      const anthropic = await call(
        "anthropic-messages",
        {
          token: claudeRun.token,
          search: "?beta=true",
          headers: { "anthropic-version": "2023-06-01" },
          body: JSON.stringify({
            model: "claude-sonnet-4-5",
            stream: true,
            max_tokens: 1024,
            messages: [{ role: "user", content: "build it" }],
          }),
        },
        overrides,
      );
      expect(anthropic.status).toBe(200);
      expect(await anthropic.text()).toContain("message_stop");
      expect(server.modelRequests().map((request) => request.path)).toEqual([
        "/v1/responses",
        "/v1/messages?beta=true",
      ]);
      const rows = [...(await usageRows(run.revisionId)), ...(await usageRows(claudeRun.revisionId))];
      const metered = rows.map((row) => [row.provider, Number(row.input_tokens), Number(row.cached_tokens)]);
      expect(metered.sort()).toEqual([
        ["anthropic", 3000, 1000],
        ["openai", 3000, 1000],
      ]);
      expect(await totals(run.revisionId)).toMatchObject({ input: 3000, output: 250, cached: 1000 });
      expect(await totals(claudeRun.revisionId)).toMatchObject({ input: 3000, output: 250, cached: 1000 });
    } finally {
      await server.close();
    }
  });

  it("refuses a body over the size limit", async () => {
    const run = await newRun();
    const before = upstream.requests.length;
    const response = await call(
      "openai-responses",
      { token: run.token, body: JSON.stringify({ model: "gpt-5", input: "x".repeat(4096) }) },
      { maxRequestBytes: 1024 },
    );
    expect(response.status).toBe(413);
    expect((await response.json()).error.type).toBe("request_too_large");
    expect(upstream.requests.length).toBe(before);
  });
});
