import { createServer } from "node:http";
import { type FakeReply, type FakeServer, listenOnLoopback, startFakeHttpServer } from "../../fakes/http";

/**
 * Minimal model gateways the real agent CLIs accept, on the wire shapes they speak: OpenAI Responses SSE for
 * Codex (`POST {base}/v1/responses`) and Anthropic Messages SSE for Claude Code (`POST {base}/v1/messages`).
 * Each turn is decided from the request body alone: when the agent sends back the result of the tool call the
 * gateway asked for, the gateway answers with a final message; otherwise it asks for one tool call (if the test
 * gave one) or answers at once.
 */

export type GatewayScript = {
  /** The run token the gateway accepts as `Authorization: Bearer …`. */
  token: string;
  /** A shell command the agent is asked to run once, before its final answer. */
  toolCommand?: string;
  finalText: string;
};

function sse(events: Array<{ type: string } & Record<string, unknown>>): FakeReply {
  return {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    text: events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(""),
  };
}

function unauthorized(): FakeReply {
  return { status: 401, json: { error: { message: "invalid run token", type: "invalid_request_error" } } };
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function bearerOk(header: string | undefined, token: string): boolean {
  return header === `Bearer ${token}`;
}

const usage = {
  input_tokens: 12,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 7,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 19,
};

/** The OpenAI Responses side, as Codex uses it. */
export function startFakeResponsesGateway(script: GatewayScript): Promise<FakeServer> {
  return startFakeHttpServer((request) => {
    if (!bearerOk(request.header("authorization"), script.token)) return unauthorized();
    if (request.method !== "POST" || request.url.pathname !== "/v1/responses") {
      return { status: 404, json: { error: { message: "not served by the fake gateway" } } };
    }
    const sentToolResult = request.body.includes('"function_call_output"');
    const item =
      script.toolCommand && !sentToolResult
        ? {
            type: "function_call",
            id: "fc_1",
            call_id: "call_kiln_1",
            name: "exec_command",
            arguments: JSON.stringify({ cmd: script.toolCommand }),
          }
        : {
            type: "message",
            id: "msg_1",
            role: "assistant",
            content: [{ type: "output_text", text: script.finalText, annotations: [] }],
          };
    return sse([
      { type: "response.output_item.done", output_index: 0, item },
      { type: "response.completed", response: { id: "resp_1", usage } },
    ]);
  });
}

/** The Anthropic Messages side, as Claude Code uses it. */
export function startFakeMessagesGateway(script: GatewayScript): Promise<FakeServer> {
  return startFakeHttpServer((request) => {
    if (!bearerOk(request.header("authorization"), script.token)) {
      return {
        status: 401,
        json: { type: "error", error: { type: "authentication_error", message: "bad token" } },
      };
    }
    if (request.method !== "POST" || request.url.pathname !== "/v1/messages") {
      return {
        status: 404,
        json: { type: "error", error: { type: "not_found_error", message: "not found" } },
      };
    }
    const body = parseBody(request.body);
    const model =
      typeof body === "object" && body !== null && "model" in body ? String(body.model) : "unknown";
    const sentToolResult = request.body.includes('"tool_result"');
    const start = {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    };
    if (script.toolCommand && !sentToolResult) {
      return sse([
        start,
        {
          type: "content_block_start",
          index: 0,
          content_block: { type: "tool_use", id: "toolu_kiln_1", name: "Bash", input: {} },
        },
        {
          type: "content_block_delta",
          index: 0,
          delta: {
            type: "input_json_delta",
            partial_json: JSON.stringify({ command: script.toolCommand, description: "Kiln test step" }),
          },
        },
        { type: "content_block_stop", index: 0 },
        {
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 7 },
        },
        { type: "message_stop" },
      ]);
    }
    return sse([
      start,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: script.finalText } },
      { type: "content_block_stop", index: 0 },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: 7 },
      },
      { type: "message_stop" },
    ]);
  });
}

/**
 * An HTTP(S) proxy that refuses everything and remembers where each request wanted to go. Set as HTTPS_PROXY for
 * an agent (with NO_PROXY covering the gateway): any attempt to reach another host shows up in `targets`.
 */
export async function startRecordingProxy(): Promise<{
  url: string;
  targets: string[];
  close(): Promise<void>;
}> {
  const targets: string[] = [];
  const server = createServer((req, res) => {
    targets.push(`${req.method ?? "GET"} ${req.url ?? ""}`);
    res.writeHead(403);
    res.end();
  });
  server.on("connect", (req, socket) => {
    socket.on("error", () => socket.destroy());
    targets.push(`CONNECT ${req.url ?? ""}`);
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  const { url, close } = await listenOnLoopback(server);
  return { url, targets, close };
}
