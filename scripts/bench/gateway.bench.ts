import { randomBytes } from "node:crypto";
import { agentDefinition } from "../../src/agents/registry";
import { createOperator } from "../../src/server/auth/operators";
import { type GatewayDeps, handleGatewayRequest } from "../../src/server/gateway/proxy";
import { issueRunToken } from "../../src/server/gateway/run-token";
import { credentialUpstreamResolver } from "../../src/server/gateway/upstream";
import { verifyCredential } from "../../src/server/integrations/verify-credential";
import { createProject } from "../../src/server/operations/create-project";
import { openaiResponseEvents, sseReply, startFakeUpstream } from "../../tests/fakes/upstream-models";
import { type TestDatabase, testDatabases } from "../../tests/helpers/databases";
import { type BenchRow, measure } from "./stats";

// What the model gateway adds to one streamed model call: token check, run and budget lookup, credential
// resolution, the pass-through with usage parsing, and the usage transaction — against calling the same local
// upstream directly. A real upstream takes seconds per call, so a few milliseconds here is noise.

const apiKey = "sk-proj-BENCHplatformKey0000000000";
const local = { git: "local", database: "libsql", sandbox: "local", blob: "local", deploy: "local" } as const;

async function benchDialect(t: TestDatabase, upstreamUrl: string, body: string): Promise<BenchRow[]> {
  const secretKey = randomBytes(32);
  const user = await createOperator(t.db, { email: "bench@kiln.test", password: "bench-password-1" });
  const created = await createProject(t.db, user.id, { prompt: "bench app" }, local);
  await t.db
    .updateTable("revision")
    .set({ status: "generating" })
    .where("id", "=", created.revision.id)
    .execute();
  const token = issueRunToken(
    { revisionId: created.revision.id, sandboxId: "sbx_bench", ttlMs: 3_600_000 },
    secretKey,
  );
  const endpoints = {
    githubApiUrl: upstreamUrl,
    vercelApiUrl: upstreamUrl,
    tidbCloudApiUrl: upstreamUrl,
    openaiBaseUrl: `${upstreamUrl}/v1`,
    anthropicBaseUrl: upstreamUrl,
    // The bench's upstream is on loopback, like a self-hoster's local model server.
    allowPrivateModelUrls: true,
  };
  const deps: GatewayDeps = {
    db: t.db,
    secretKey,
    resolveUpstream: credentialUpstreamResolver(t.db, {
      key: secretKey,
      endpoints,
      platformDefaults: { openai: { apiKey, baseUrl: undefined } },
      verify: (input) => verifyCredential(input, { endpoints }),
    }),
    budget: { tokens: 0, usdMicros: 0 },
  };
  const viaGateway = async () => {
    const request = new Request("http://kiln.test/gateway/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    const response = await handleGatewayRequest({ protocol: "openai-responses", request }, deps);
    if (response.status !== 200) throw new Error(`gateway answered ${response.status}`);
    await response.arrayBuffer();
  };
  return [
    await measure(`[${t.name}] gateway: streamed call (~40 KB SSE) incl. usage write`, 200, viaGateway, {
      warmup: 10,
      goal: "≤ direct + 10 ms",
    }),
  ];
}

export async function run(): Promise<BenchRow[]> {
  const upstream = await startFakeUpstream({ openaiKeys: [apiKey], anthropicKeys: [] });
  // ~300 delta events: the size of a long agent turn's answer.
  const events = openaiResponseEvents({
    model: "gpt-5",
    text: "All work and no play makes a dull app. ".repeat(60),
    usage: { input: 20_000, cached: 18_000, output: 600 },
  });
  upstream.script(() => sseReply(events, { chunkBytes: 1024 }));
  // A run token opens only its run's model: the bench's project names none, so the Codex default.
  const body = JSON.stringify({
    model: agentDefinition("codex").defaultModel,
    stream: true,
    input: "x".repeat(20_000),
  });
  const rows: BenchRow[] = [];
  try {
    rows.push(
      await measure(
        "gateway baseline: same call straight to the upstream",
        200,
        async () => {
          const response = await fetch(`${upstream.openaiBaseUrl}/responses`, {
            method: "POST",
            headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
            body,
          });
          await response.arrayBuffer();
        },
        { warmup: 10 },
      ),
    );
    for (const factory of testDatabases) {
      const t = await factory.open();
      try {
        rows.push(...(await benchDialect(t, upstream.url, body)));
      } finally {
        await t.drop();
      }
    }
  } finally {
    await upstream.close();
  }
  return rows;
}
