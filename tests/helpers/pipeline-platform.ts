import { createServer, type IncomingMessage, type Server } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { CredentialContext } from "../../src/server/credentials/credential-store";
import type { Database } from "../../src/server/db/connection";
import { toPublicError } from "../../src/server/errors";
import { handleSandboxWebhook } from "../../src/server/events/webhook";
import { type GatewayDeps, handleGatewayRequest } from "../../src/server/gateway/proxy";
import { credentialUpstreamResolver } from "../../src/server/gateway/upstream";
import type { RunnerEventDeps } from "../../src/server/pipeline/advance-from-runner";
import { carryOn } from "../../src/server/pipeline/carry-on";
import type { PipelineDeps } from "../../src/server/pipeline/pipeline-deps";

// The platform's two sandbox-facing endpoints (model gateway, webhook) served by the same domain functions the
// Next.js routes call — like tests/helpers/platform-server.ts, plus what fault and secret tests need: the gateway's
// timeouts and budget defaults injectable, the webhook's platform secrets, the run tokens the gateway saw, and a
// way to wait until the revision advancement started by webhook batches has settled.

export type PipelinePlatformOptions = {
  db: Database;
  credentials: CredentialContext;
  runner: RunnerEventDeps;
  /** For a revision this platform must resume (its sandbox died); tests that never do leave it out. */
  pipeline?: () => PipelineDeps;
  /** Gateway overrides (the real routes use 5 min timeouts and the env budget defaults). */
  gateway?: Partial<
    Pick<GatewayDeps, "upstreamHeadersTimeoutMs" | "upstreamIdleTimeoutMs" | "budget" | "maxRequestBytes">
  >;
  /** What `platformSecretsFromEnv(env)` gives the real webhook route (KILN_SECRET_KEY, admin password…). */
  platformSecrets?: string[];
  /** A fixed loopback port (to come back where a running sandbox expects the platform). Default: any free one. */
  port?: number;
};

export type PipelinePlatform = {
  url: string;
  /** Unexpected failures: a 5xx from the webhook, a throw from the advancement, a crash of the handler. */
  errors: unknown[];
  /** The codes of the webhook's 4xx answers, in order (e.g. `conflict:run_closed` for a run's late batches). */
  refused: string[];
  /** Every run token presented to the gateway (bearer or x-api-key), to check where it ends up. */
  runTokens: Set<string>;
  /** Resolves once every advancement started so far (and any it started in turn) has settled. */
  idle(): Promise<void>;
  /** Stops answering: the sandbox's webhook posts and model calls then fail as if the platform went away. */
  close(): Promise<void>;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(", "));
  }
  return headers;
}

function presentedToken(headers: Headers): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "")?.[1];
  return bearer ?? headers.get("x-api-key") ?? undefined;
}

/** Like listenOnLoopback (tests/fakes/http.ts), on a chosen port: `close()` is idempotent and cuts open requests. */
async function listenOn(server: Server, port: number): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string")
    throw new Error("the platform is not listening on TCP");
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

export async function startPipelinePlatform(options: PipelinePlatformOptions): Promise<PipelinePlatform> {
  const errors: unknown[] = [];
  const refused: string[] = [];
  const runTokens = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  async function answer(req: IncomingMessage, signal: AbortSignal): Promise<Response> {
    const url = new URL(req.url ?? "/", "http://platform.local");
    const body = await readBody(req);
    const headers = headersOf(req);
    const gateway = /^\/gateway\/v1\/(responses|messages)$/.exec(url.pathname);
    const hook = /^\/hooks\/v1\/sandboxes\/([^/]+)$/.exec(url.pathname);
    if (gateway && req.method === "POST") {
      const token = presentedToken(headers);
      if (token) runTokens.add(token);
      return handleGatewayRequest(
        {
          protocol: gateway[1] === "responses" ? "openai-responses" : "anthropic-messages",
          request: new Request(url, { method: "POST", headers, body: new Uint8Array(body), signal }),
        },
        {
          db: options.db,
          secretKey: options.credentials.key,
          resolveUpstream: credentialUpstreamResolver(options.db, options.credentials),
          budget: { tokens: 0, usdMicros: 0 },
          ...options.gateway,
        },
      );
    }
    if (hook?.[1] && req.method === "POST") {
      try {
        const result = await handleSandboxWebhook(
          { sandboxId: hook[1], headers, rawBody: body.toString("utf8") },
          {
            db: options.db,
            credentials: options.credentials,
            platformSecrets: options.platformSecrets ?? [],
            // As the route does: advance after answering, one batch at a time per revision.
            onIngested: async (ingested) => {
              track(
                carryOn(
                  {
                    db: options.db,
                    serverId: "test-platform",
                    runnerEventDeps: () => options.runner,
                    pipelineDeps: async () => {
                      if (!options.pipeline) throw new Error("This test platform does not resume revisions.");
                      return options.pipeline();
                    },
                  },
                  ingested.revisionId,
                ).catch((error: unknown) => errors.push(error)),
              );
            },
          },
        );
        return Response.json(result);
      } catch (error) {
        const { status, body: errorBody } = toPublicError(error);
        if (status >= 500) errors.push(error);
        else refused.push(errorBody.code);
        return Response.json({ error: errorBody }, { status });
      }
    }
    return Response.json({ error: { code: "not_found:route" } }, { status: 404 });
  }

  const server = createServer((req, res) => {
    // Like Next's request.signal: aborted when the client goes away before the answer is complete.
    const client = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) client.abort();
    });
    void (async () => {
      const response = await answer(req, client.signal);
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      if (response.body) Readable.fromWeb(response.body as NodeReadableStream).pipe(res);
      else res.end();
    })().catch((error: unknown) => {
      errors.push(error);
      if (!res.headersSent) res.writeHead(599);
      res.end(String(error));
    });
  });
  const listening = await listenOn(server, options.port ?? 0);
  return {
    url: listening.url,
    errors,
    refused,
    runTokens,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close: listening.close,
  };
}
