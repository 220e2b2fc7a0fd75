import fs from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { ReplayPlayer } from "../../src/components/conversation/replay-player";
import type { Database } from "../../src/server/db/connection";
import { appendPlatformEvent, ingestRunnerBatch } from "../../src/server/events/append";
import { createRedactor } from "../../src/server/events/redact";
import type { EventBody, WireEvent } from "../../src/server/events/schema";
import { openSharedEventStream } from "../../src/server/share-links/share-stream";
import { getSharedSession } from "../../src/server/share-links/shared-session";
import { listenOnLoopback } from "../../tests/fakes/http";
import { type TestDatabase, testDatabases } from "../../tests/helpers/databases";
import { testPublicSite } from "../../tests/helpers/public-site";
import {
  createProjectFixture,
  createSandboxFixture,
  credentialContext,
  type ProjectFixture,
  platformSecrets,
} from "../../tests/integration/events-fixtures";
import { type BenchRow, measure, percentile } from "./stats";

// The public replay page (/s/[slug]) of a 10,000-event session, on every available dialect.
//
// 1. "server render": what the page does per request, outside Next.js: `getSharedSession` (the database reads and
//    the public shape of the backlog the page carries, SHARED_BACKLOG_LIMIT events; the rest streams), then the
//    player's HTML (`renderToString` of the same client component tree Next.js server-renders) and the props as
//    JSON (what the RSC payload carries). Next.js's own routing and RSC encoding are not included. A row with the
//    whole session in the page shows what the backlog limit saves.
// 2. "event → viewer": 100 viewers on the real public SSE route logic (`openSharedEventStream`, served by a local
//    http server), read with fetch streaming as EventSource would; each of 40 platform events is timed from the
//    start of its append (the database write included) to its frame at every viewer; a second row times it from
//    the write's commit. Every viewer must receive every event.
//
// "Interactive ≤ 1 s in Chromium" is replay-browser.ts, added here when a production build exists.

const SESSION_EVENTS = 10_000;
const BATCH = 500;
const VIEWERS = 100;
const LIVE_EVENTS = 40;

/** A realistic mix for a long agent run: messages, commands with output, file changes, todos, thoughts, logs. */
function runnerEvent(runId: string, seq: number, at: number): WireEvent {
  const base = { id: `${runId}-${seq}`, seq, at };
  const kind = seq % 20;
  let body: EventBody;
  if (kind < 8) {
    body = {
      type: "agent.message",
      payload: {
        itemId: `msg_${seq}`,
        text: `Step ${seq}: I'll add a due-date column and its migration. `.repeat(5),
      },
    };
  } else if (kind < 14) {
    body = {
      type: "agent.command",
      payload: {
        itemId: `cmd_${seq}`,
        command: kind === 8 ? "npm run build" : `sed -n '1,80p' src/app/todos/${seq}/page.tsx`,
        output: `> next build\n${"  ✓ Compiled /app/page in 812ms (1532 modules)\n".repeat(kind === 8 ? 60 : 12)}`,
        exitCode: kind === 9 ? 1 : 0,
        status: kind === 9 ? "failed" : "completed",
      },
    };
  } else if (kind < 17) {
    body = {
      type: "agent.file_change",
      payload: {
        itemId: `fc_${seq}`,
        changes: [
          { path: `src/app/todos/${seq}/page.tsx`, kind: "add" },
          { path: "src/db/schema.ts", kind: "update" },
        ],
      },
    };
  } else if (kind === 17) {
    body = {
      type: "agent.todo",
      payload: {
        itemId: `todo_${Math.floor(seq / 100)}`,
        items: [
          { text: "Schema", done: true },
          { text: "List page", done: seq % 40 > 20 },
          { text: "Due dates", done: false },
        ],
      },
    };
  } else if (kind === 18) {
    body = {
      type: "agent.reasoning",
      payload: { itemId: `r_${seq}`, text: "Thinking about the schema. ".repeat(8) },
    };
  } else {
    body = {
      type: "runner.output",
      payload: { step: "verify", stream: "stdout", text: "info  - Collecting page data ...\n".repeat(4) },
    };
  }
  return { ...base, ...body } as WireEvent;
}

/** A session of SESSION_EVENTS events (platform and runner, through the real writers) in `db`. */
export async function seedReplaySession(db: Database): Promise<ProjectFixture> {
  const ctx = credentialContext();
  const project = await createProjectFixture(db, ctx);
  const sandbox = await createSandboxFixture(db, ctx.key, project);
  const scope = { projectId: project.projectId, taskId: project.taskId, revisionId: project.revisionId };
  // An hour ago, the runner's events following the platform's every 350 ms: a timeline to replay.
  const start = Date.now() - 3_600_000;
  let platformAt = start - 10_000;
  const platform = (body: EventBody) => {
    platformAt += 1_000;
    return appendPlatformEvent(db, { ...scope, body, now: platformAt });
  };
  await platform({ type: "revision.status", payload: { status: "planning" } });
  await platform({ type: "step.started", payload: { step: "plan" } });
  await platform({
    type: "plan",
    payload: {
      title: "Todo app",
      slug: "todo",
      steps: ["Schema", "List", "Due dates"],
      prompt: "Build a todo app",
    },
  });
  await platform({ type: "step.finished", payload: { step: "plan", durationMs: 2_400 } });
  await platform({ type: "revision.status", payload: { status: "generating" } });
  const redactor = createRedactor(platformSecrets);
  const runId = "run_bench_replay";
  let seq = 10;
  while (seq < SESSION_EVENTS) {
    const events: WireEvent[] = [];
    for (let i = 0; i < BATCH && seq < SESSION_EVENTS; i++, seq++)
      events.push(runnerEvent(runId, seq, start + seq * 350));
    await ingestRunnerBatch(db, { sandbox, batch: { runId, events }, redactor });
  }
  const stored = await db
    .selectFrom("event")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("task_id", "=", project.taskId)
    .executeTakeFirstOrThrow();
  if (Number(stored.n) < SESSION_EVENTS - 10) throw new Error(`seeded only ${stored.n} events`);
  return project;
}

function sizeRow(name: string, bytes: number): BenchRow {
  return { name, runs: 1, p50: bytes / 1024, p95: bytes / 1024, unit: "KB" };
}

async function benchRender(t: TestDatabase, project: ProjectFixture): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let html = "";
  let props = "";
  rows.push(
    await measure(
      `[${t.name}] replay page, ${SESSION_EVENTS.toLocaleString("en")} events: getSharedSession`,
      20,
      () => getSharedSession(t.db, testPublicSite, project.slug),
      { warmup: 3 },
    ),
  );
  rows.push(
    await measure(
      `[${t.name}] replay page, ${SESSION_EVENTS.toLocaleString("en")} events: data + HTML + props JSON`,
      20,
      async () => {
        const session = await getSharedSession(t.db, testPublicSite, project.slug);
        props = JSON.stringify(session);
        html = renderToString(createElement(ReplayPlayer, { session }));
      },
      { warmup: 3, goal: "≤ 300 ms" },
    ),
  );
  rows.push(sizeRow(`[${t.name}]   page HTML (player)`, Buffer.byteLength(html)));
  rows.push(sizeRow(`[${t.name}]   page props (RSC payload, approx.)`, Buffer.byteLength(props)));
  rows.push(
    await measure(
      `[${t.name}] same, whole session in the page (no backlog limit)`,
      5,
      async () => {
        const session = await getSharedSession(t.db, testPublicSite, project.slug, {
          backlogLimit: SESSION_EVENTS + 100,
        });
        props = JSON.stringify(session);
        html = renderToString(createElement(ReplayPlayer, { session }));
      },
      { warmup: 1 },
    ),
  );
  rows.push(sizeRow(`[${t.name}]   props, whole session`, Buffer.byteLength(props)));
  return rows;
}

/** The public events route's logic on a local http server, as the Next.js route runs it. */
async function startReplayServer(t: TestDatabase) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://replay.local");
    const match = /^\/api\/v1\/sessions\/([^/]+)\/events$/.exec(url.pathname);
    if (!match?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    const lastEventId = req.headers["last-event-id"];
    openSharedEventStream(t.db, testPublicSite, {
      slug: match[1],
      lastEventId: typeof lastEventId === "string" ? lastEventId : null,
      after: url.searchParams.get("after"),
      signal: controller.signal,
    })
      .then((response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        if (response.body) Readable.fromWeb(response.body as NodeReadableStream).pipe(res);
        else res.end();
      })
      .catch((error: unknown) => {
        // A bench server: the failure is reported by the viewer that sees the 500.
        console.error(error);
        res.writeHead(500).end();
      });
  });
  return listenOnLoopback(server);
}

type Viewer = { done: Promise<void>; arrivals: Map<number, number> };

/** One EventSource-like reader: records when each live event (by its index in the message) reached it. */
function openViewer(url: string, signal: AbortSignal, onOpen: () => void): Viewer {
  const arrivals = new Map<number, number>();
  const done = (async () => {
    const response = await fetch(url, { headers: { accept: "text/event-stream" }, signal });
    if (!response.ok || !response.body) throw new Error(`viewer got ${response.status}`);
    onOpen();
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = response.body.getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const now = performance.now();
        buffer += decoder.decode(read.value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const match = /"message":"live (\d+)"/.exec(frame);
          if (match?.[1]) arrivals.set(Number(match[1]), now);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  })();
  return { done, arrivals };
}

async function benchViewers(t: TestDatabase, project: ProjectFixture): Promise<BenchRow[]> {
  const server = await startReplayServer(t);
  const page = await getSharedSession(t.db, testPublicSite, project.slug);
  const url = `${server.url}/api/v1/sessions/${project.slug}/events?after=${page.endCursor}`;
  const controller = new AbortController();
  let open = 0;
  const viewers: Viewer[] = [];
  for (let v = 0; v < VIEWERS; v++) viewers.push(openViewer(url, controller.signal, () => open++));
  const deadline = Date.now() + 30_000;
  while (open < VIEWERS) {
    if (Date.now() > deadline) throw new Error(`only ${open} of ${VIEWERS} viewers connected`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Let every stream finish its first read and wait for wake-ups.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const samples: number[] = [];
  const afterWrite: number[] = [];
  for (let i = 0; i < LIVE_EVENTS; i++) {
    const started = performance.now();
    await appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: { type: "progress", payload: { message: `live ${i}` } },
    });
    const written = performance.now();
    const eventDeadline = Date.now() + 10_000;
    while (viewers.some((viewer) => !viewer.arrivals.has(i))) {
      if (Date.now() > eventDeadline) throw new Error(`event ${i} did not reach every viewer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (const viewer of viewers) {
      const arrived = viewer.arrivals.get(i) ?? Number.NaN;
      samples.push(arrived - started);
      afterWrite.push(arrived - written);
    }
    // Spaced like a busy agent's events, not a flood.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  controller.abort();
  await Promise.allSettled(viewers.map((viewer) => viewer.done));
  await server.close();

  samples.sort((a, b) => a - b);
  afterWrite.sort((a, b) => a - b);
  const name = `[${t.name}] event → viewer, ${VIEWERS} SSE viewers × ${LIVE_EVENTS} events (0 lost)`;
  return [
    { name, runs: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95), unit: "ms" },
    {
      name: `${name}: p99 | max`,
      runs: samples.length,
      p50: percentile(samples, 99),
      p95: samples.at(-1) ?? Number.NaN,
      unit: "ms",
      goal: "p99 ≤ 100 ms",
    },
    {
      name: `${name}: commit → viewer, p99 | max`,
      runs: afterWrite.length,
      p50: percentile(afterWrite, 99),
      p95: afterWrite.at(-1) ?? Number.NaN,
      unit: "ms",
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const factory of testDatabases) {
    const t = await factory.open();
    try {
      const project = await seedReplaySession(t.db);
      rows.push(...(await benchRender(t, project)));
      rows.push(...(await benchViewers(t, project)));
    } finally {
      await t.drop();
    }
  }
  // In Chromium against a production build: only when there is one (`next build`), since building takes minutes.
  if (fs.existsSync(path.resolve(".next/BUILD_ID"))) {
    const { runReplayBrowser } = await import("./replay-browser");
    rows.push(...(await runReplayBrowser()));
  } else {
    console.warn("replay page in Chromium: not measured, run `npx next build` first");
  }
  return rows;
}
