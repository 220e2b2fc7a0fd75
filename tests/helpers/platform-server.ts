import { createServer, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { CredentialContext } from "../../src/server/credentials/credential-store";
import type { Database } from "../../src/server/db/connection";
import { toPublicError } from "../../src/server/errors";
import { handleSandboxWebhook } from "../../src/server/events/webhook";
import { handleGatewayRequest } from "../../src/server/gateway/proxy";
import { credentialUpstreamResolver } from "../../src/server/gateway/upstream";
import type { RunnerEventDeps } from "../../src/server/pipeline/advance-from-runner";
import { carryOn } from "../../src/server/pipeline/carry-on";
import type { PipelineDeps } from "../../src/server/pipeline/pipeline-deps";
import { listenOnLoopback } from "../fakes/http";

// The platform's two sandbox-facing endpoints (model gateway, webhook) served by the same domain functions the
// Next.js routes call, so pipeline tests run the real flow without building the app.

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export type PlatformServer = { url: string; errors: unknown[]; close(): Promise<void> };

export async function startPlatformServer(deps: {
  db: Database;
  credentials: CredentialContext;
  runner: RunnerEventDeps;
  /** For a revision this server must resume (its sandbox died); tests that never do leave it out. */
  pipeline?: () => PipelineDeps;
}): Promise<PlatformServer> {
  const errors: unknown[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://platform.local");
      const body = await readBody(req);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(", "));
      }
      let response: Response;
      const gateway = /^\/gateway\/v1\/(responses|messages)$/.exec(url.pathname);
      const hook = /^\/hooks\/v1\/sandboxes\/([^/]+)$/.exec(url.pathname);
      if (gateway && req.method === "POST") {
        response = await handleGatewayRequest(
          {
            protocol: gateway[1] === "responses" ? "openai-responses" : "anthropic-messages",
            request: new Request(url, { method: "POST", headers, body: new Uint8Array(body) }),
          },
          {
            db: deps.db,
            secretKey: deps.credentials.key,
            resolveUpstream: credentialUpstreamResolver(deps.db, deps.credentials),
            budget: { tokens: 0, usdMicros: 0 },
          },
        );
      } else if (hook?.[1] && req.method === "POST") {
        try {
          const result = await handleSandboxWebhook(
            { sandboxId: hook[1], headers, rawBody: body.toString("utf8") },
            {
              db: deps.db,
              credentials: deps.credentials,
              platformSecrets: [],
              // As the route does: carry the revision on after answering (carry-on.ts), under its lease.
              onIngested: async (ingested) => {
                void carryOn(
                  {
                    db: deps.db,
                    serverId: "test-platform",
                    runnerEventDeps: () => deps.runner,
                    pipelineDeps: async () => {
                      if (!deps.pipeline) throw new Error("This test platform does not resume revisions.");
                      return deps.pipeline();
                    },
                  },
                  ingested.revisionId,
                ).catch((error: unknown) => errors.push(error));
              },
            },
          );
          response = Response.json(result);
        } catch (error) {
          const { status, body: errorBody } = toPublicError(error);
          if (status >= 500) errors.push(error);
          response = Response.json({ error: errorBody }, { status });
        }
      } else {
        response = Response.json({ error: { code: "not_found:route" } }, { status: 404 });
      }
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      if (response.body)
        Readable.fromWeb(response.body as import("node:stream/web").ReadableStream).pipe(res);
      else res.end();
    })().catch((error: unknown) => {
      errors.push(error);
      res.writeHead(599);
      res.end(String(error));
    });
  });
  const listening = await listenOnLoopback(server);
  return { url: listening.url, errors, close: listening.close };
}
