import { performance } from "node:perf_hooks";
import type { CredentialContext } from "../../src/server/credentials/credential-store";
import { appendPlatformEvent, ingestRunnerBatch } from "../../src/server/events/append";
import { knownSecretsFor } from "../../src/server/events/known-secrets";
import { createRedactor } from "../../src/server/events/redact";
import type { EventBatch, WireEvent } from "../../src/server/events/schema";
import { signWebhookBody } from "../../src/server/events/sign";
import { eventStreamResponse } from "../../src/server/events/stream";
import { handleSandboxWebhook } from "../../src/server/events/webhook";
import { type TestDatabase, testDatabases } from "../../tests/helpers/databases";
import {
  createProjectFixture,
  createSandboxFixture,
  credentialContext,
  platformSecrets,
} from "../../tests/integration/events-fixtures";
import { type BenchRow, measure } from "./stats";

// Webhook ingestion into the event store on every available dialect (libSQL always; MySQL with KILN_TEST_MYSQL_URL):
// batches of 500 straight through `ingestRunnerBatch`, then through the full handler (signature, JSON, schema,
// known-secret lookup, redaction), then the in-process append → SSE delivery latency. Every run counts the stored
// rows afterwards and fails if one is missing.

const BATCH = 500;
const BATCHES = 40;
const HANDLER_BATCHES = 20;

/** A realistic mix: agent messages, command output with a little noise, file changes. */
function batchOf(runId: string, from: number): EventBatch {
  const events: WireEvent[] = [];
  for (let seq = from; seq < from + BATCH; seq++) {
    const at = Date.now();
    const id = `${runId}-${seq}`;
    if (seq % 3 === 0) {
      events.push({
        id,
        seq,
        at,
        type: "agent.command",
        payload: {
          itemId: `cmd_${seq}`,
          command: "npm run build",
          output: `> next build\n${"  ✓ Compiled /app/page in 812ms (1532 modules)\n".repeat(20)}`,
          exitCode: 0,
          status: "completed",
        },
      });
    } else if (seq % 3 === 1) {
      events.push({
        id,
        seq,
        at,
        type: "agent.message",
        payload: {
          itemId: `msg_${seq}`,
          text: "I'll add a due-date column and a migration for it. ".repeat(4),
        },
      });
    } else {
      events.push({
        id,
        seq,
        at,
        type: "agent.file_change",
        payload: { itemId: `fc_${seq}`, changes: [{ path: `src/app/todos/${seq}/page.tsx`, kind: "add" }] },
      });
    }
  }
  return { runId, events };
}

function throughputRow(name: string, latencyRow: BenchRow, goal: string): BenchRow {
  // Per-batch throughput at the median and at the slow (p95) batch.
  return {
    name,
    runs: latencyRow.runs,
    p50: (BATCH / latencyRow.p50) * 1_000,
    p95: (BATCH / latencyRow.p95) * 1_000,
    unit: "events/s",
    goal,
  };
}

async function countRows(t: TestDatabase, sandboxId: string): Promise<number> {
  const row = await t.db
    .selectFrom("event")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("sandbox_id", "=", sandboxId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function benchDialect(t: TestDatabase, ctx: CredentialContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const project = await createProjectFixture(t.db, ctx);

  // 1. ingestRunnerBatch, redactor built once (as the handler does per batch, measured below).
  const direct = await createSandboxFixture(t.db, ctx.key, project);
  const secrets = [...(await knownSecretsFor(t.db, ctx, project.userId)), ...platformSecrets, direct.secret];
  const redactor = createRedactor(secrets);
  const runId = "run_bench_direct";
  const started = performance.now();
  const ingest = await measure(
    `[${t.name}] ingestRunnerBatch, ${BATCH} events/batch`,
    BATCHES,
    (i) => ingestRunnerBatch(t.db, { sandbox: direct, batch: batchOf(runId, (i + 2) * BATCH), redactor }),
    { warmup: 2, goal: "≤ 100 ms" },
  );
  const elapsed = performance.now() - started;
  const expected = (BATCHES + 2) * BATCH;
  const stored = await countRows(t, direct.id);
  if (stored !== expected) throw new Error(`[${t.name}] ingest lost events: stored ${stored} of ${expected}`);
  rows.push(ingest);
  rows.push(throughputRow(`[${t.name}] ingestRunnerBatch throughput (0 lost)`, ingest, "≥ 5,000 events/s"));
  rows.push({
    name: `[${t.name}] ingestRunnerBatch overall, ${expected} events (0 lost)`,
    runs: 1,
    p50: (expected / elapsed) * 1_000,
    p95: (expected / elapsed) * 1_000,
    unit: "events/s",
    goal: "≥ 5,000 events/s",
  });

  // 2. The full webhook handler: signature check, JSON + schema, known secrets from the database, redaction.
  const signed = await createSandboxFixture(t.db, ctx.key, project);
  const deps = { db: t.db, credentials: ctx, platformSecrets };
  const handlerRunId = "run_bench_handler";
  const handler = await measure(
    `[${t.name}] webhook handler (signed), ${BATCH} events/batch`,
    HANDLER_BATCHES,
    (i) => {
      const rawBody = JSON.stringify(batchOf(handlerRunId, (i + 2) * BATCH));
      const headers = new Headers(signWebhookBody(signed.secret, Date.now(), rawBody));
      return handleSandboxWebhook({ sandboxId: signed.id, headers, rawBody }, deps);
    },
    { warmup: 2, goal: "≤ 150 ms" },
  );
  const handlerExpected = (HANDLER_BATCHES + 2) * BATCH;
  const handlerStored = await countRows(t, signed.id);
  if (handlerStored !== handlerExpected) {
    throw new Error(`[${t.name}] handler lost events: stored ${handlerStored} of ${handlerExpected}`);
  }
  rows.push(handler);
  rows.push(throughputRow(`[${t.name}] webhook handler throughput (0 lost)`, handler, "≥ 3,000 events/s"));

  // 3. Several runs at once: one sandbox per task, each posting its batches back to back.
  rows.push(await concurrentIngest(t, ctx, 4));

  // 4. Platform events (seq = max+1 under the revision lock), then append → frame on an open SSE stream.
  rows.push(
    await measure(`[${t.name}] appendPlatformEvent (seq under lock)`, 100, (i) =>
      appendPlatformEvent(t.db, {
        projectId: project.projectId,
        taskId: project.taskId,
        revisionId: project.revisionId,
        body: { type: "progress", payload: { message: `bench ${i}` } },
      }),
    ),
  );
  rows.push(await liveDelivery(t, project));
  return rows;
}

/** `writers` sandboxes of different tasks ingesting at the same time; the row is the aggregate rate. */
async function concurrentIngest(t: TestDatabase, ctx: CredentialContext, writers: number): Promise<BenchRow> {
  const perWriter = 10;
  const sandboxes = [];
  for (let w = 0; w < writers; w++) {
    const project = await createProjectFixture(t.db, ctx);
    sandboxes.push(await createSandboxFixture(t.db, ctx.key, project));
  }
  const redactor = createRedactor(platformSecrets);
  const started = performance.now();
  await Promise.all(
    sandboxes.map(async (sandbox, w) => {
      for (let i = 0; i < perWriter; i++) {
        await ingestRunnerBatch(t.db, { sandbox, batch: batchOf(`run_bench_w${w}`, i * BATCH), redactor });
      }
    }),
  );
  const elapsed = performance.now() - started;
  const expected = perWriter * BATCH;
  for (const sandbox of sandboxes) {
    const stored = await countRows(t, sandbox.id);
    if (stored !== expected)
      throw new Error(`[${t.name}] concurrent ingest lost events: ${stored} of ${expected}`);
  }
  const rate = ((writers * expected) / elapsed) * 1_000;
  return {
    name: `[${t.name}] ${writers} sandboxes at once, ${writers * expected} events (0 lost)`,
    runs: 1,
    p50: rate,
    p95: rate,
    unit: "events/s",
    goal: "≥ 5,000 events/s",
  };
}

/** Time from the start of an append to the frame arriving on an already-open stream. */
async function liveDelivery(
  t: TestDatabase,
  project: { projectId: string; taskId: string; revisionId: string },
): Promise<BenchRow> {
  // Start at the newest event: only live frames follow.
  const newest = await t.db
    .selectFrom("event")
    .select((eb) => eb.fn.max("id").as("id"))
    .where("task_id", "=", project.taskId)
    .executeTakeFirst();
  const live = new AbortController();
  const stream = eventStreamResponse({
    db: t.db,
    taskId: project.taskId,
    afterCursor: Number(newest?.id ?? 0),
    signal: live.signal,
    pollMs: 60_000,
  });
  const reader = stream.body?.getReader();
  if (!reader) throw new Error("no stream body");
  await reader.read(); // retry line
  const row = await measure(
    `[${t.name}] append → SSE frame (in-process wake)`,
    50,
    async (i) => {
      const frame = reader.read();
      await appendPlatformEvent(t.db, {
        projectId: project.projectId,
        taskId: project.taskId,
        revisionId: project.revisionId,
        body: { type: "progress", payload: { message: `live ${i}` } },
      });
      await frame;
    },
    { warmup: 2, goal: "≤ 100 ms" },
  );
  live.abort();
  await reader.cancel();
  return row;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const factory of testDatabases) {
    const t = await factory.open();
    try {
      rows.push(...(await benchDialect(t, credentialContext())));
    } finally {
      await t.drop();
    }
  }
  return rows;
}
