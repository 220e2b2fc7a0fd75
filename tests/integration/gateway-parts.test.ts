import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { budgetedTokens, checkBudget } from "@/server/gateway/budget";
import { costUsdMicros, parseDefaultPrice, priceOf } from "@/server/gateway/prices";
import { upstreamHeaders, upstreamUrl } from "@/server/gateway/protocols";
import { checkRunToken, issueRunToken, verifyRunToken } from "@/server/gateway/run-token";
import { SseParser } from "@/server/gateway/sse-parser";
import { createUsageTracker } from "@/server/gateway/usage-tracker";

// The gateway's pure parts, with no database or network: here so they sit next to the gateway's integration
// tests they support.

const key = randomBytes(32);
const claims = { revisionId: "rev_abc123", sandboxId: "sbx_xyz789" };

describe("run tokens", () => {
  it("round-trips its claims until it expires", () => {
    const now = 1_800_000_000_000;
    const token = issueRunToken({ ...claims, ttlMs: 60_000 }, key, now);
    expect(token).toMatch(/^krt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyRunToken(token, key, now)).toEqual(claims);
    expect(verifyRunToken(token, key, now + 59_999)).toEqual(claims);
    expect(checkRunToken(token, key, now + 60_000)).toEqual({ ok: false, reason: "expired" });
    const payload = JSON.parse(Buffer.from(token.slice(4).split(".")[0] ?? "", "base64url").toString());
    expect(payload).toEqual({ r: claims.revisionId, s: claims.sandboxId, exp: now + 60_000 });
  });

  it("refuses tokens signed with another key, altered, or not tokens at all", () => {
    const now = Date.now();
    const token = issueRunToken({ ...claims, ttlMs: 60_000 }, key, now);
    const [payload = "", signature = ""] = token.slice(4).split(".");
    const longer = Buffer.from(
      JSON.stringify({ r: "rev_other", s: claims.sandboxId, exp: now + 1e9 }),
    ).toString("base64url");
    expect(checkRunToken(token, randomBytes(32), now)).toEqual({ ok: false, reason: "bad_signature" });
    expect(checkRunToken(`krt_${longer}.${signature}`, key, now)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    for (const bad of [
      "",
      "krt_",
      `kr_${payload}.${signature}`,
      `krt_${payload}`,
      `krt_${payload}.${signature}.x`,
      `krt_${payload}.${signature}=`,
      `krt_${payload}+.${signature}`,
      `krt_${payload}.${"A".repeat(3000)}`,
    ]) {
      expect(checkRunToken(bad, key, now).ok, bad).toBe(false);
    }
  });

  it("has exactly one spelling: the unused bits of the last signature character are checked", () => {
    const token = issueRunToken({ ...claims, ttlMs: 60_000 }, key);
    const last = token.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Same top 4 bits, other bottom 2 (which the 32-byte signature does not use): decodes to the same bytes.
    const index = alphabet.indexOf(last);
    const twin = alphabet[(index & ~3) | ((index + 1) & 3)] ?? "";
    expect(Buffer.from(`${token.slice(-43, -1)}${twin}`, "base64url")).toEqual(
      Buffer.from(token.slice(-43), "base64url"),
    );
    expect(verifyRunToken(`${token.slice(0, -1)}${twin}`, key)).toBeNull();
  });

  it("refuses to issue a token without a lifetime", () => {
    expect(() => issueRunToken({ ...claims, ttlMs: 0 }, key)).toThrow(RangeError);
    expect(() => issueRunToken({ ...claims, ttlMs: Number.NaN }, key)).toThrow(RangeError);
  });
});

describe("prices", () => {
  it("matches a model by its longest listed name, up to a dash", () => {
    expect(priceOf("gpt-5")?.input).toBe(1_250_000);
    expect(priceOf("gpt-5-2025-08-07")?.input).toBe(1_250_000);
    expect(priceOf("gpt-5-codex")?.input).toBe(1_250_000);
    expect(priceOf("gpt-5-mini-2025-08-07")?.input).toBe(250_000);
    expect(priceOf("gpt-5.4")?.input).toBe(2_500_000);
    expect(priceOf("gpt-5.4-mini")?.input).toBe(750_000);
    expect(priceOf("gpt-4.1-2025-04-14")?.output).toBe(8_000_000);
    expect(priceOf("o4-mini-2025-04-16")?.output).toBe(4_400_000);
    expect(priceOf("claude-sonnet-4-5-20250929")?.input).toBe(3_000_000);
    expect(priceOf("claude-opus-4-5-20251101")?.input).toBe(5_000_000);
    expect(priceOf("claude-opus-4-1-20250805")?.input).toBe(15_000_000);
    expect(priceOf("claude-opus-4-20250514")?.input).toBe(15_000_000);
    expect(priceOf("claude-haiku-4-5")?.cachedInput).toBe(100_000);
    // A version the table does not know is not priced as an older one.
    expect(priceOf("gpt-5.9")).toBeUndefined();
    expect(priceOf("gpt-50")).toBeUndefined();
    expect(priceOf("llama3.1:8b")).toBeUndefined();
  });

  it("prices fresh input, cache reads, cache writes and output separately; unknown models cost 0", () => {
    const usage = {
      inputTokens: 1_000_000,
      cachedTokens: 600_000,
      cacheWriteTokens: 100_000,
      outputTokens: 10_000,
    };
    // sonnet 4: 300k × $3 + 600k × $0.30 + 100k × $3.75 + 10k × $15 = 0.9 + 0.18 + 0.375 + 0.15 = $1.605
    expect(costUsdMicros("claude-sonnet-4-5", usage)).toBe(1_605_000);
    // OpenAI has no cache-write price: writes count as input. 400k × $1.25 + 600k × $0.125 + 10k × $10
    expect(costUsdMicros("gpt-5", { ...usage, cacheWriteTokens: 0 })).toBe(675_000);
    expect(costUsdMicros("my-local-model", usage)).toBe(0);
    // A model without a list price costs what the platform's default price says, cache use at the input price.
    const fallback = parseDefaultPrice("0.5,2");
    expect(fallback).toEqual({ input: 500_000, cachedInput: 500_000, output: 2_000_000 });
    // 1M input × $0.50 (cached or not) + 10k × $2 = $0.52
    expect(costUsdMicros("my-local-model", { ...usage, cacheWriteTokens: 0 }, fallback)).toBe(520_000);
    expect(() => parseDefaultPrice("free")).toThrow(/USD per million tokens/);
  });
});

describe("budget", () => {
  const run = {
    revisionId: "rev_1",
    projectId: "prj_1",
    userId: "usr_1",
    status: "generating",
    sandboxId: null,
    agent: "codex",
    model: null,
    projectModel: null,
    modelProvider: null,
    projectModelProvider: null,
    inputTokens: 10_000,
    outputTokens: 500,
    cachedTokens: 9_000,
    costUsdMicros: 40_000,
    budgetTokens: null,
    budgetUsdMicros: null,
  };

  it("counts fresh input and output, not cache reads", () => {
    expect(budgetedTokens(run)).toBe(1_500);
  });

  it("applies project overrides over the defaults, and 0 as no limit", () => {
    expect(checkBudget(run, { tokens: 2_000, usdMicros: 50_000 }).ok).toBe(true);
    expect(checkBudget(run, { tokens: 1_500, usdMicros: 50_000 }).ok).toBe(false);
    expect(checkBudget(run, { tokens: 2_000, usdMicros: 40_000 }).ok).toBe(false);
    expect(checkBudget(run, { tokens: 0, usdMicros: 0 }).ok).toBe(true);
    expect(checkBudget({ ...run, budgetTokens: 1_000 }, { tokens: 1e9, usdMicros: 0 }).ok).toBe(false);
    expect(checkBudget({ ...run, budgetTokens: 0 }, { tokens: 1, usdMicros: 0 }).ok).toBe(true);
    expect(checkBudget({ ...run, budgetUsdMicros: 5_000_000 }, { tokens: 0, usdMicros: 1 }).ok).toBe(true);
  });
});

describe("protocols", () => {
  it("builds the upstream URL from each vendor's kind of base URL, keeping the query", () => {
    expect(upstreamUrl("openai-responses", "https://api.openai.com/v1/", "")).toBe(
      "https://api.openai.com/v1/responses",
    );
    expect(upstreamUrl("anthropic-messages", "https://api.anthropic.com", "?beta=true")).toBe(
      "https://api.anthropic.com/v1/messages?beta=true",
    );
  });

  it("sends the operator's key the vendor's way and drops the client's credentials and hop-by-hop headers", () => {
    const client = new Headers({
      authorization: "Bearer krt_client",
      "x-api-key": "krt_client",
      cookie: "kiln_session=1",
      connection: "keep-alive",
      "transfer-encoding": "chunked",
      "x-forwarded-for": "10.0.0.1",
      "openai-organization": "org_sandbox",
      "x-kiln-anything": "1",
      "anthropic-beta": "claude-code-20250219",
      session_id: "abc",
      accept: "text/event-stream",
    });
    const openai = upstreamHeaders("openai-responses", client, "sk-operator");
    expect(Object.fromEntries(openai)).toEqual({
      authorization: "Bearer sk-operator",
      "anthropic-beta": "claude-code-20250219",
      session_id: "abc",
      accept: "text/event-stream",
      "content-type": "application/json",
    });
    const anthropic = upstreamHeaders("anthropic-messages", client, "sk-ant-operator");
    expect(anthropic.get("x-api-key")).toBe("sk-ant-operator");
    expect(anthropic.get("authorization")).toBeNull();
    expect(anthropic.get("anthropic-version")).toBe("2023-06-01");
  });
});

function feed(parser: SseParser, text: string, cut: number): void {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += cut)
    parser.push(bytes.subarray(offset, offset + cut));
  parser.end();
}

describe("SSE parser", () => {
  const stream =
    ": keep-alive comment\r\n" +
    'event: one\r\ndata: {"a":"é✓🚀"}\r\n\r\n' +
    "data: line 1\ndata: line 2\n\n" +
    "event: skipped\ndata: nope\n\n" +
    "event:three\rdata:x\r\r" +
    "event: last\ndata: no blank line at the end";

  it.each([1, 2, 3, 7, 1000])("gives the same events whatever the chunk size (%i bytes)", (cut) => {
    const events: Array<[string, string]> = [];
    const parser = new SseParser({
      onEvent: (event, data) => events.push([event, data]),
      wants: (name) => name !== "skipped",
    });
    feed(parser, stream, cut);
    expect(events).toEqual([
      ["one", '{"a":"é✓🚀"}'],
      ["", "line 1\nline 2"],
      ["three", "x"],
      ["last", "no blank line at the end"],
    ]);
  });

  it("drops an event larger than its limit and carries on", () => {
    const events: string[] = [];
    const parser = new SseParser({ onEvent: (_event, data) => events.push(data), maxEventChars: 100 });
    feed(
      parser,
      `data: ${"x".repeat(500)}\n\ndata: ${"y".repeat(50)}\ndata: ${"z".repeat(60)}\n\ndata: ok\n\n`,
      16,
    );
    expect(events).toEqual(["ok"]);
  });
});

describe("usage tracker", () => {
  it("ignores usage it cannot read instead of failing the stream", () => {
    const tracker = createUsageTracker("openai-responses", "text/event-stream");
    tracker.push(
      Buffer.from('event: response.completed\ndata: {"type":"response.completed","response":{"usage":'),
    );
    tracker.push(Buffer.from('{"input_tokens":"many"}}}\n\ndata: not json "usage"\n\n'));
    expect(tracker.finish()).toBeUndefined();
  });

  it("takes Anthropic's latest cumulative figures from message_delta", () => {
    const tracker = createUsageTracker("anthropic-messages", "text/event-stream; charset=utf-8");
    const events = [
      {
        type: "message_start",
        message: { model: "claude-sonnet-4-5", usage: { input_tokens: 10, output_tokens: 1 } },
      },
      { type: "message_delta", usage: { output_tokens: 7 } },
      { type: "message_delta", usage: { output_tokens: 42, input_tokens: 12, cache_read_input_tokens: 100 } },
    ];
    for (const event of events)
      tracker.push(Buffer.from(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
    expect(tracker.finish()).toEqual({
      model: "claude-sonnet-4-5",
      usage: { inputTokens: 112, cachedTokens: 100, cacheWriteTokens: 0, outputTokens: 42 },
    });
  });

  it("does not meter what is neither SSE nor JSON", () => {
    const tracker = createUsageTracker("openai-responses", "text/plain");
    tracker.push(Buffer.from('{"usage":{"input_tokens":1,"output_tokens":1}}'));
    expect(tracker.finish()).toBeUndefined();
  });
});
