import { createServer, type IncomingMessage } from "node:http";
import { type EventBatch, eventBatchSchema, type WireEvent } from "../../src/server/events/schema";
import {
  isValidSignature,
  isWithinTolerance,
  parseSignatureHeader,
  parseTimestampHeader,
} from "../../src/server/events/sign";
import { listenOnLoopback } from "../fakes/http";

/**
 * A webhook receiver for runner tests: checks each request as the platform's webhook does (signature over the
 * raw body, timestamp window, body size, batch schema), records what it accepted, and stores each event id once.
 * `respond` lets a test answer a given request with a fault instead.
 */

export type ReceivedRequest = {
  status: number;
  timestamp: number | null;
  bytes: number;
  batch?: EventBatch;
  /** Why it was refused, when it was. */
  refused?: string;
};

export type Fault = { status: number; headers?: Record<string, string>; delayMs?: number } | { drop: true };

export type WebhookReceiver = {
  url: string;
  requests: ReceivedRequest[];
  /** Accepted events, each id once, in arrival order. */
  events(): WireEvent[];
  close(): Promise<void>;
};

export type ReceiverOptions = {
  secret: string;
  /** Called with the request's index (from 0); a fault overrides the normal answer. */
  respond?: (index: number) => Fault | undefined;
  /** Delay before every normal answer. */
  delayMs?: number;
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : null;
}

function check(
  secret: string,
  req: IncomingMessage,
  raw: string,
): { status: number; refused?: string; batch?: EventBatch } {
  const timestamp = parseTimestampHeader(header(req, "x-kiln-timestamp"));
  const signatures = parseSignatureHeader(header(req, "x-kiln-signature"));
  if (timestamp === null || signatures === null) return { status: 401, refused: "missing signature headers" };
  if (Buffer.byteLength(raw) > 1_000_000) return { status: 413, refused: "body over 1 MB" };
  if (!isValidSignature(secret, timestamp, raw, signatures)) return { status: 401, refused: "bad signature" };
  if (!isWithinTolerance(timestamp, Date.now())) return { status: 401, refused: "stale timestamp" };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    if (error instanceof SyntaxError) return { status: 400, refused: "not JSON" };
    throw error;
  }
  const parsed = eventBatchSchema.safeParse(json);
  if (!parsed.success) return { status: 400, refused: `schema: ${parsed.error.issues[0]?.message ?? ""}` };
  return { status: 200, batch: parsed.data };
}

export async function startWebhookReceiver(options: ReceiverOptions): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const stored = new Map<string, WireEvent>();
  let count = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const index = count++;
      const raw = await readBody(req);
      const timestamp = parseTimestampHeader(header(req, "x-kiln-timestamp"));
      const fault = options.respond?.(index);
      if (fault && "drop" in fault) {
        requests.push({ status: 0, timestamp, bytes: raw.length, refused: "dropped" });
        req.socket.destroy();
        return;
      }
      if (fault) {
        if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        requests.push({ status: fault.status, timestamp, bytes: raw.length, refused: "fault" });
        res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
        res.end(JSON.stringify({ error: "fault" }));
        return;
      }
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const result = check(options.secret, req, raw);
      requests.push({ timestamp, bytes: Buffer.byteLength(raw), ...result });
      let duplicates = 0;
      for (const event of result.batch?.events ?? []) {
        if (stored.has(event.id)) duplicates += 1;
        else stored.set(event.id, event);
      }
      res.writeHead(result.status, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          result.batch
            ? { accepted: result.batch.events.length - duplicates, duplicates }
            : { error: result.refused },
        ),
      );
    })().catch((error: unknown) => {
      console.error("webhook receiver failed", error);
      res.writeHead(599);
      res.end();
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return { url: `${url}/hooks/v1/sandboxes/sbx_test`, requests, events: () => [...stored.values()], close };
}
