import { describe, expect, it, vi } from "vitest";
import { chatFromMessages } from "@/server/gateway/chat/chat-from-messages";
import { chatFromResponses, TranslationError } from "@/server/gateway/chat/chat-from-responses";
import { translateAnswer, translateError } from "@/server/gateway/chat/translate-answer";
import { SseParser } from "@/server/gateway/sse-parser";

// The gateway's Chat Completions translation, in and out, as the CLIs and an OpenAI-compatible server see it.

type Event = { event: string; data: Record<string, unknown> };

function chatSse(chunks: unknown[], done = true): string {
  return (
    chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join("") + (done ? "data: [DONE]\n\n" : "")
  );
}

function parseSse(text: string): Event[] {
  const events: Event[] = [];
  const parser = new SseParser({ onEvent: (event, data) => events.push({ event, data: JSON.parse(data) }) });
  parser.push(Buffer.from(text));
  parser.end();
  return events;
}

/** Feeds the bytes in pieces of `size` (cutting UTF-8 sequences and lines anywhere), as a network would. */
function run(
  client: "openai-responses" | "anthropic-messages",
  body: string,
  options: { streamed?: boolean; size?: number; customTools?: string[] } = {},
) {
  const translation = translateAnswer({
    client,
    model: "qwen3-coder",
    streamed: options.streamed ?? true,
    customTools: new Set(options.customTools ?? []),
    estimatedInputTokens: 1234,
    callId: "t1",
  });
  const bytes = Buffer.from(body);
  const size = options.size ?? 7;
  let out = "";
  for (let at = 0; at < bytes.length; at += size) out += translation.push(bytes.subarray(at, at + size));
  out += translation.end();
  return { out, usage: translation.usage(), contentType: translation.contentType };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  model: "qwen3-coder",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = (prompt: number, completion: number, cached = 0) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  model: "qwen3-coder",
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    prompt_tokens_details: { cached_tokens: cached },
  },
});

describe("Responses request → Chat Completions", () => {
  it("carries instructions, messages, tool calls and their outputs, tools and streaming", () => {
    const { request, customTools } = chatFromResponses({
      model: "qwen3-coder",
      instructions: "You are Codex.",
      stream: true,
      parallel_tool_calls: false,
      tool_choice: "auto",
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions>" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "build a todo app" }] },
        { type: "reasoning", summary: [], encrypted_content: "opaque" },
        { type: "function_call", name: "exec_command", arguments: '{"cmd":"ls"}', call_id: "call_1" },
        { type: "function_call_output", call_id: "call_1", output: "package.json\n" },
        { type: "custom_tool_call", name: "apply_patch", input: "*** Begin Patch", call_id: "call_2" },
        { type: "custom_tool_call_output", call_id: "call_2", output: "Done" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Built it." }] },
      ],
      tools: [
        { type: "function", name: "exec_command", description: "Run", parameters: { type: "object" } },
        { type: "custom", name: "apply_patch", description: "Patch files", format: { type: "grammar" } },
        { type: "web_search" },
      ],
    });
    expect(request.messages).toEqual([
      { role: "system", content: "You are Codex.\n\n<permissions>" },
      { role: "user", content: "build a todo app" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "exec_command", arguments: '{"cmd":"ls"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "package.json\n" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_2",
            type: "function",
            function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_2", content: "Done" },
      { role: "assistant", content: "Built it." },
    ]);
    expect(request.tools?.map((tool) => tool.function.name)).toEqual(["exec_command", "apply_patch"]);
    expect(request.tools?.[1]?.function.parameters).toMatchObject({ required: ["input"] });
    expect([...customTools]).toEqual(["apply_patch"]);
    expect(request.stream_options).toEqual({ include_usage: true });
    expect(request.parallel_tool_calls).toBe(false);
    expect(request.tool_choice).toBe("auto");
  });

  it("refuses a body that is not a Responses request", () => {
    expect(() => chatFromResponses({ messages: [] })).toThrow(TranslationError);
  });
});

describe("Messages request → Chat Completions", () => {
  it("puts tool results right after the calls, the system text first, and maps the tool choice", () => {
    const { request } = chatFromMessages({
      model: "qwen3-coder",
      max_tokens: 32000,
      stream: true,
      system: [{ type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } }],
      tool_choice: { type: "any" },
      tools: [
        {
          name: "Bash",
          description: "Run",
          input_schema: { type: "object", properties: { command: { type: "string" } } },
        },
        { type: "web_search_20250305", name: "web_search" },
      ],
      messages: [
        { role: "system", content: "Primary working directory: /work" },
        { role: "user", content: [{ type: "text", text: "build a todo app" }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Looking." },
            { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: [{ type: "text", text: "package.json" }],
            },
            { type: "text", text: "<system-reminder>keep going</system-reminder>" },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: "system", content: "You are Claude Code.\n\nPrimary working directory: /work" },
      { role: "user", content: "build a todo app" },
      {
        role: "assistant",
        content: "Looking.",
        tool_calls: [
          { id: "toolu_1", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "package.json" },
      { role: "user", content: "<system-reminder>keep going</system-reminder>" },
    ]);
    expect(request.tools?.map((tool) => tool.function.name)).toEqual(["Bash"]);
    expect(request.tool_choice).toBe("required");
    expect(request.max_tokens).toBe(32000);
  });
});

describe("Chat Completions stream → Responses events (Codex)", () => {
  const body = chatSse([
    chunk({ role: "assistant", reasoning_content: "Let me think ✓." }),
    chunk({ content: "Héllo, wörld 🚀 " }),
    chunk({ content: "done." }),
    chunk({
      tool_calls: [
        { index: 0, id: "call_a", type: "function", function: { name: "exec_command", arguments: "" } },
      ],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"cmd":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls -la"}' } }] }),
    chunk({
      tool_calls: [
        {
          index: 1,
          id: "call_b",
          function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch\\n"}' },
        },
      ],
    }),
    chunk({}, "tool_calls"),
    usageChunk(900, 55, 100),
  ]);

  it("streams reasoning and text, then the tool calls whole, then completed with the upstream's usage", () => {
    const { out, usage, contentType } = run("openai-responses", body, { customTools: ["apply_patch"] });
    expect(contentType).toContain("text/event-stream");
    const events = parseSse(out);
    expect(events[0]?.event).toBe("response.created");
    const deltas = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta);
    expect(deltas.join("")).toBe("Héllo, wörld 🚀 done.");
    const done = events.filter((e) => e.event === "response.output_item.done").map((e) => e.data.item);
    expect(done).toEqual([
      {
        type: "reasoning",
        id: expect.any(String),
        summary: [],
        content: [{ type: "reasoning_text", text: "Let me think ✓." }],
      },
      expect.objectContaining({
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: "Héllo, wörld 🚀 done.", annotations: [] }],
      }),
      expect.objectContaining({
        type: "function_call",
        call_id: "call_a",
        name: "exec_command",
        arguments: '{"cmd":"ls -la"}',
      }),
      expect.objectContaining({
        type: "custom_tool_call",
        call_id: "call_b",
        name: "apply_patch",
        input: "*** Begin Patch\n",
      }),
    ]);
    const last = events.at(-1);
    expect(last?.event).toBe("response.completed");
    expect(last?.data.response).toMatchObject({
      status: "completed",
      usage: { input_tokens: 900, output_tokens: 55, input_tokens_details: { cached_tokens: 100 } },
    });
    expect(usage).toEqual({
      model: "qwen3-coder",
      estimated: false,
      usage: { inputTokens: 900, cachedTokens: 100, cacheWriteTokens: 0, outputTokens: 55 },
    });
  });

  it("gives the same events however the bytes are cut", () => {
    // One clock for both runs: the response's created_at is in seconds, and the two could straddle a second.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-07T00:00:00Z") });
    try {
      expect(run("openai-responses", body, { size: 1 }).out).toEqual(
        run("openai-responses", body, { size: 4096 }).out,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it("estimates usage when the server reports none, and says so", () => {
    const { usage, out } = run("openai-responses", chatSse([chunk({ content: "x".repeat(400) }, "stop")]));
    expect(usage).toMatchObject({ estimated: true, usage: { inputTokens: 1234, outputTokens: 100 } });
    expect(parseSse(out).at(-1)?.data.response).toMatchObject({
      usage: { input_tokens: 1234, output_tokens: 100 },
    });
  });

  it("fails the response on an error chunk, and on a stream that ends before it finished", () => {
    const failed = parseSse(
      run(
        "openai-responses",
        chatSse([chunk({ content: "a" }), { error: { message: "CUDA out of memory", code: 500 } }]),
      ).out,
    ).at(-1);
    expect(failed?.event).toBe("response.failed");
    expect(failed?.data.response).toMatchObject({
      status: "failed",
      error: { message: "CUDA out of memory", code: "500" },
    });
    const cut = parseSse(run("openai-responses", chatSse([chunk({ content: "a" })], false)).out).at(-1);
    expect(cut?.event).toBe("response.failed");
  });

  it("says incomplete when the answer hit the token limit", () => {
    const last = parseSse(run("openai-responses", chatSse([chunk({ content: "a" }, "length")])).out).at(-1);
    expect(last?.event).toBe("response.incomplete");
    expect(last?.data.response).toMatchObject({ incomplete_details: { reason: "max_output_tokens" } });
  });

  it("translates a whole JSON answer into a response object", () => {
    const { out, contentType, usage } = run(
      "openai-responses",
      JSON.stringify({
        id: "chatcmpl-2",
        model: "llama3.3",
        choices: [
          {
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                {
                  id: "c1",
                  type: "function",
                  function: { name: "exec_command", arguments: '{"cmd":"pwd"}' },
                },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 3 },
      }),
      { streamed: false },
    );
    expect(contentType).toBe("application/json");
    expect(JSON.parse(out)).toMatchObject({
      object: "response",
      status: "completed",
      model: "llama3.3",
      output: [{ type: "function_call", call_id: "c1", name: "exec_command", arguments: '{"cmd":"pwd"}' }],
      usage: { input_tokens: 10, output_tokens: 3 },
    });
    expect(usage.estimated).toBe(false);
  });
});

describe("Chat Completions stream → Messages events (Claude Code)", () => {
  it("streams thinking and text blocks, then tool_use blocks, with the stop reason and usage at the end", () => {
    // Ollama style: the whole call in one chunk, no index, and "stop" even though it called a tool.
    const body = chatSse([
      chunk({ role: "assistant", reasoning: "Plan: write the file." }),
      chunk({ content: "Writing ✓" }),
      chunk({
        tool_calls: [
          { id: "call.1", function: { name: "Write", arguments: '{"file_path":"/w/a.txt","content":"hi"}' } },
        ],
      }),
      chunk({}, "stop"),
      usageChunk(500, 40, 200),
    ]);
    const { out, usage } = run("anthropic-messages", body);
    const events = parseSse(out);
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[2]?.data.content_block).toMatchObject({ type: "thinking" });
    expect(events[3]?.data.delta).toEqual({ type: "thinking_delta", thinking: "Plan: write the file." });
    expect(events[6]?.data.delta).toEqual({ type: "text_delta", text: "Writing ✓" });
    expect(events[8]?.data).toMatchObject({
      index: 2,
      content_block: { type: "tool_use", id: "call_1", name: "Write" },
    });
    expect(events[9]?.data.delta).toEqual({
      type: "input_json_delta",
      partial_json: '{"file_path":"/w/a.txt","content":"hi"}',
    });
    expect(events[11]?.data).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 300, cache_read_input_tokens: 200, output_tokens: 40 },
    });
    expect(usage.usage).toEqual({
      inputTokens: 500,
      cachedTokens: 200,
      cacheWriteTokens: 0,
      outputTokens: 40,
    });
  });

  it("ends with an error event when the server fails mid-answer", () => {
    const events = parseSse(
      run("anthropic-messages", chatSse([{ error: { message: "model crashed" } }])).out,
    );
    expect(events.at(-1)).toEqual({
      event: "error",
      data: { type: "error", error: { type: "api_error", message: "model crashed" } },
    });
  });

  it("translates a whole JSON answer into a message", () => {
    const { out } = run(
      "anthropic-messages",
      JSON.stringify({ model: "m", choices: [{ message: { content: "Hi" }, finish_reason: "stop" }] }),
      { streamed: false },
    );
    expect(JSON.parse(out)).toMatchObject({
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "Hi" }],
      stop_reason: "end_turn",
    });
  });
});

describe("upstream errors", () => {
  it("come back in the client's own shape, with the server's message", () => {
    const body = JSON.stringify({
      error: { message: "model 'x' not found", type: "invalid_request_error", code: "model_not_found" },
    });
    expect(JSON.parse(translateError("anthropic-messages", 404, body, "The server"))).toEqual({
      type: "error",
      error: { type: "not_found_error", message: "The server: model 'x' not found" },
    });
    expect(JSON.parse(translateError("openai-responses", 404, body, "The server"))).toMatchObject({
      error: { message: "The server: model 'x' not found", code: "model_not_found" },
    });
    // Ollama and FastAPI-style servers answer {detail} or plain text.
    expect(
      JSON.parse(translateError("anthropic-messages", 500, '{"detail":"boom"}', "S")).error.message,
    ).toBe("S: boom");
    expect(JSON.parse(translateError("anthropic-messages", 502, "Bad Gateway", "S")).error.message).toBe(
      "S: Bad Gateway",
    );
  });
});
