import { createServer, type IncomingMessage } from "node:http";
import { type FakeRequest, listenOnLoopback, type RecordedRequest } from "./http";

/**
 * A minimal model upstream for the gateway tests: OpenAI's `POST /v1/responses` and Anthropic's
 * `POST /v1/messages` with each vendor's own auth (`Authorization: Bearer` / `x-api-key` + `anthropic-version`)
 * and error shapes, answering with scripted bodies written chunk by chunk (SSE as the vendors stream it), or
 * hanging. It records every request and whether the client went away before the answer ended.
 */

export type UpstreamReply =
  | {
      status: number;
      headers?: Record<string, string>;
      /** Written one by one, `delayMs` apart. */
      chunks: Array<string | Uint8Array>;
      delayMs?: number;
      /** Leave the body open after the last chunk (until the client leaves or the fake closes). */
      keepOpen?: boolean;
    }
  | { hang: true };

export type UpstreamRecord = RecordedRequest & {
  /** The client closed the connection before the answer was complete. */
  clientLeft: boolean;
};

export type UpstreamScript = (request: FakeRequest) => UpstreamReply | undefined;

export type FakeUpstream = {
  url: string;
  /** What an OpenAI base URL is for this fake (OpenAI base URLs include `/v1`). */
  openaiBaseUrl: string;
  /** What an Anthropic base URL is for this fake (without `/v1`). */
  anthropicBaseUrl: string;
  requests: UpstreamRecord[];
  /** Answers the next requests (after the vendor's auth) with `script`; undefined from it = the default stream. */
  script(script: UpstreamScript | undefined): void;
  close(): Promise<void>;
};

/** The keys each vendor accepts (an operator's own and the platform default, say). */
export type FakeUpstreamOptions = { openaiKeys: string[]; anthropicKeys: string[] };

export type SseEvent = { event?: string; data: unknown };

export function sseText(events: SseEvent[]): string {
  return events
    .map(({ event, data }) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`)
    .join("");
}

export type StreamUsage = {
  input: number;
  output: number;
  cached?: number;
  cacheWrite?: number;
};

/** An OpenAI Responses stream as the API sends it: created, text deltas, the item, then completed with usage. */
export function openaiResponseEvents(options: {
  model: string;
  text: string;
  usage: StreamUsage;
}): SseEvent[] {
  const id = "resp_fake0001";
  const item = {
    type: "message",
    id: "msg_fake0001",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: options.text, annotations: [] }],
  };
  const base = { id, object: "response", created_at: 1767225600, model: options.model };
  const deltas = options.text.match(/.{1,8}/gsu) ?? [];
  let seq = 0;
  return [
    {
      event: "response.created",
      data: {
        type: "response.created",
        sequence_number: seq++,
        response: { ...base, status: "in_progress", output: [], usage: null },
      },
    },
    {
      event: "response.output_item.added",
      data: {
        type: "response.output_item.added",
        sequence_number: seq++,
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] },
      },
    },
    ...deltas.map((delta) => ({
      event: "response.output_text.delta",
      data: {
        type: "response.output_text.delta",
        sequence_number: seq++,
        item_id: item.id,
        output_index: 0,
        content_index: 0,
        delta,
      },
    })),
    {
      event: "response.output_item.done",
      data: { type: "response.output_item.done", sequence_number: seq++, output_index: 0, item },
    },
    {
      event: "response.completed",
      data: {
        type: "response.completed",
        sequence_number: seq++,
        response: {
          ...base,
          status: "completed",
          output: [item],
          usage: {
            input_tokens: options.usage.input,
            input_tokens_details: { cached_tokens: options.usage.cached ?? 0 },
            output_tokens: options.usage.output,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: options.usage.input + options.usage.output,
          },
        },
      },
    },
  ];
}

/** An Anthropic Messages stream: message_start (input usage), a text block, message_delta (output), stop. */
export function anthropicMessageEvents(options: {
  model: string;
  text: string;
  usage: StreamUsage;
}): SseEvent[] {
  const deltas = options.text.match(/.{1,8}/gsu) ?? [];
  return [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: {
          id: "msg_fake0001",
          type: "message",
          role: "assistant",
          content: [],
          model: options.model,
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: options.usage.input,
            cache_creation_input_tokens: options.usage.cacheWrite ?? 0,
            cache_read_input_tokens: options.usage.cached ?? 0,
            output_tokens: 1,
          },
        },
      },
    },
    {
      event: "content_block_start",
      data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    },
    { event: "ping", data: { type: "ping" } },
    ...deltas.map((text) => ({
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    })),
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: options.usage.output },
      },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  ];
}

/** An SSE reply; `chunkBytes` cuts the body at arbitrary byte offsets (mid-line, mid-character) as TCP may. */
export function sseReply(
  events: SseEvent[],
  options: { chunkBytes?: number; delayMs?: number } = {},
): UpstreamReply {
  const bytes = Buffer.from(sseText(events));
  const size = options.chunkBytes ?? bytes.length;
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    chunks,
    delayMs: options.delayMs,
  };
}

function jsonReply(status: number, body: unknown): UpstreamReply {
  return { status, headers: { "content-type": "application/json" }, chunks: [JSON.stringify(body)] };
}

type Vendor = "openai" | "anthropic";

/** `/v1/models` is shared: Anthropic clients send `x-api-key`, OpenAI clients a Bearer. */
function vendorOf(request: FakeRequest): Vendor | undefined {
  const path = request.url.pathname;
  if (path === "/v1/responses") return "openai";
  if (path === "/v1/messages") return "anthropic";
  if (path === "/v1/models") return request.header("x-api-key") ? "anthropic" : "openai";
  return undefined;
}

function vendorAuth(
  request: FakeRequest,
  vendor: Vendor,
  options: FakeUpstreamOptions,
): UpstreamReply | undefined {
  if (vendor === "openai") {
    const key = /^Bearer\s+(\S+)$/i.exec(request.header("authorization") ?? "")?.[1];
    if (key !== undefined && options.openaiKeys.includes(key)) return undefined;
    // Real OpenAI masks the key here; some compatible servers echo it whole, which the gateway must scrub.
    return jsonReply(401, {
      error: {
        message: `Incorrect API key provided: ${key ?? "(none)"}.`,
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
  }
  if (!options.anthropicKeys.includes(request.header("x-api-key") ?? "")) {
    return jsonReply(401, {
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
  }
  if (!request.header("anthropic-version")) {
    return jsonReply(400, {
      type: "error",
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    });
  }
  return undefined;
}

/** The model lists that credential checks read when an operator saves a key pointing at this fake. */
function modelsReply(vendor: Vendor): UpstreamReply {
  return vendor === "openai"
    ? jsonReply(200, {
        object: "list",
        data: [{ id: "gpt-5", object: "model", created: 1, owned_by: "system" }],
      })
    : jsonReply(200, {
        data: [
          {
            type: "model",
            id: "claude-sonnet-4-5",
            display_name: "Claude Sonnet 4.5",
            created_at: "2025-09-29T00:00:00Z",
          },
        ],
        has_more: false,
        first_id: "claude-sonnet-4-5",
        last_id: "claude-sonnet-4-5",
      });
}

function route(request: FakeRequest, options: FakeUpstreamOptions, script: UpstreamScript | undefined) {
  const vendor = vendorOf(request);
  if (!vendor)
    return jsonReply(404, { error: { message: `Invalid URL (${request.method} ${request.url.pathname})` } });
  const refused = vendorAuth(request, vendor, options);
  if (refused) return refused;
  if (request.url.pathname === "/v1/models") return modelsReply(vendor);
  return script?.(request) ?? defaultReply(request);
}

function defaultReply(request: FakeRequest): UpstreamReply {
  const usage = { input: 100, output: 20 };
  return request.url.pathname === "/v1/responses"
    ? sseReply(openaiResponseEvents({ model: "gpt-5", text: "Hello from OpenAI.", usage }))
    : sseReply(anthropicMessageEvents({ model: "claude-sonnet-4-5", text: "Hello from Claude.", usage }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const requests: UpstreamRecord[] = [];
  let script: UpstreamScript | undefined;

  const server = createServer((req, res) => {
    void (async () => {
      const record: UpstreamRecord = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: await readBody(req),
        clientLeft: false,
      };
      requests.push(record);
      res.on("close", () => {
        if (!res.writableFinished) record.clientLeft = true;
      });
      const request: FakeRequest = {
        ...record,
        url: new URL(record.path, "http://fake.local"),
        params: {},
        header(name) {
          const value = req.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(", ") : value;
        },
      };
      const reply = route(request, options, script);
      if ("hang" in reply) return;
      res.writeHead(reply.status, reply.headers ?? {});
      res.flushHeaders();
      for (const [index, chunk] of reply.chunks.entries()) {
        if (res.destroyed) return;
        if (index > 0 && reply.delayMs) await sleep(reply.delayMs);
        res.write(chunk);
      }
      if (!reply.keepOpen) res.end();
    })().catch((error: unknown) => {
      console.error("fake upstream failed", error);
      res.destroy();
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    script(next) {
      script = next;
    },
    close,
  };
}
