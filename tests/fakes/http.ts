import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";

/**
 * A tiny node:http harness for vendor fakes. Each vendor fake = interceptor (test-injected faults) → the
 * vendor's own auth → its routes (extra routes first, so contract tests can add or override endpoints) → 404.
 */

export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

export type FakeRequest = RecordedRequest & {
  url: URL;
  /** Values of `:name` segments of the matched route. */
  params: Record<string, string>;
  /** Case-insensitive header read that flattens repeated headers. */
  header(name: string): string | undefined;
};

export type FakeReply =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string | string[]> }
  /** Never answer; the connection is cut when the fake closes. */
  | { hang: true }
  /** Destroy the socket without any answer. */
  | { drop: true };

export type FakeHandler = (request: FakeRequest) => FakeReply | Promise<FakeReply>;
export type FakeRoute = { method: string; path: string; handle: FakeHandler };
export type FakeInterceptor = (
  request: FakeRequest,
) => FakeReply | undefined | Promise<FakeReply | undefined>;

/** Options every vendor fake accepts. */
export type FakeVendorOptions = {
  /** Runs before the vendor's auth: return a reply (500, 429, hang…) to override the vendor for that request. */
  intercept?: FakeInterceptor;
  /** Extra authenticated routes, matched before the vendor's built-in ones. */
  routes?: FakeRoute[];
};

export type FakeServer = {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
};

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): FakeReply {
  return { status, json: body, headers };
}

export function route(method: string, path: string, handle: FakeHandler): FakeRoute {
  return { method, path, handle };
}

function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const patternParts = pattern.split("/");
  const pathParts = pathname.split("/");
  if (patternParts.length !== pathParts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of patternParts.entries()) {
    const actual = pathParts[index] ?? "";
    if (part.startsWith(":")) {
      if (!actual) return undefined;
      params[part.slice(1)] = decodeURIComponent(actual);
    } else if (part !== actual) {
      return undefined;
    }
  }
  return params;
}

/** Finds the first route matching the request and runs it; undefined when none matches. */
export async function dispatch(routes: FakeRoute[], request: FakeRequest): Promise<FakeReply | undefined> {
  for (const candidate of routes) {
    if (candidate.method.toUpperCase() !== request.method) continue;
    const params = matchPath(candidate.path, request.url.pathname);
    if (params) return candidate.handle({ ...request, params });
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeHttpServer(handler: FakeHandler, port = 0): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      const request: FakeRequest = {
        ...recorded,
        url: new URL(recorded.path, "http://fake.local"),
        params: {},
        header(name) {
          const value = req.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(", ") : value;
        },
      };
      writeReply(req, res, await handler(request));
    })().catch((error: unknown) => {
      // A bug in a fake must fail the test loudly rather than look like a vendor outage.
      console.error("fake server handler failed", error);
      res.writeHead(599, { "content-type": "text/plain" });
      res.end(`fake server handler failed: ${String(error)}`);
    });
  });
  const { url, close } = await listenOnLoopback(server, port);
  return {
    url,
    requests,
    close,
  };
}

/** Sends a FakeReply: JSON or text with headers, or a hang, or a dropped socket. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: FakeReply): void {
  if ("hang" in reply) return;
  if ("drop" in reply) {
    req.socket.destroy();
    return;
  }
  const headers: Record<string, string | string[]> = { ...reply.headers };
  let payload = reply.text ?? "";
  if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Listens on a free loopback port; `close()` is idempotent and does not wait for hanging requests. */
export async function listenOnLoopback(
  server: Server,
  port = 0,
): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake server is not listening on TCP");
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hanging requests and idle keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
