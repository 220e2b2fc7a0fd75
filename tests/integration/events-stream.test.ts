import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CredentialContext } from "@/server/credentials/credential-store";
import { appendPlatformEvent, ingestRunnerBatch } from "@/server/events/append";
import { subscriberCount } from "@/server/events/bus";
import { createRedactor } from "@/server/events/redact";
import type { StoredEvent } from "@/server/events/schema";
import { eventStreamResponse, readEventsAfter } from "@/server/events/stream";
import { openSharedEventStream } from "@/server/share-links/share-stream";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { testPublicSite } from "../helpers/public-site";
import {
  createProjectFixture,
  createSandboxFixture,
  credentialContext,
  type ProjectFixture,
  progressEvents,
  type SandboxFixture,
} from "./events-fixtures";

type Frame = { id?: string; event?: string; data?: string; comment?: string };

/** Reads SSE frames off a Response body the way EventSource does (blank line ends a frame). */
function sseReader(response: Response) {
  const body = response.body;
  if (!body) throw new Error("no body");
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queued: Frame[] = [];

  function parse(block: string): Frame {
    const frame: Frame = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) frame.comment = line.slice(1).trim();
      const match = /^(id|event|data): (.*)$/.exec(line);
      if (match?.[1] === "id" || match?.[1] === "event" || match?.[1] === "data") frame[match[1]] = match[2];
    }
    return frame;
  }

  async function next(): Promise<Frame | null> {
    while (queued.length === 0) {
      const { done, value } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        queued.push(parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
    return queued.shift() ?? null;
  }

  /** The next `count` events, skipping the retry line and heartbeats. */
  async function events(count: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    while (out.length < count) {
      const frame = await next();
      if (!frame) throw new Error(`stream ended after ${out.length} of ${count} events`);
      if (frame.data) {
        const event: StoredEvent = JSON.parse(frame.data);
        expect(frame.id).toBe(String(event.cursor));
        expect(frame.event).toBe(event.type);
        out.push(event);
      }
    }
    return out;
  }

  return { next, events, cancel: () => reader.cancel() };
}

const RUN = "run_stream_test";

describe.each(testDatabases)("event streams on $name", (factory) => {
  let t: TestDatabase;
  let ctx: CredentialContext;
  let project: ProjectFixture;
  let sandbox: SandboxFixture;
  const redactor = createRedactor([]);

  beforeAll(async () => {
    t = await factory.open();
    ctx = credentialContext();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    project = await createProjectFixture(t.db, ctx);
    sandbox = await createSandboxFixture(t.db, ctx.key, project);
  });

  function ingest(from: number, to: number) {
    return ingestRunnerBatch(t.db, {
      sandbox,
      batch: { runId: RUN, events: progressEvents(RUN, from, to) },
      redactor,
    });
  }

  function progress(message: string) {
    return appendPlatformEvent(t.db, {
      projectId: project.projectId,
      taskId: project.taskId,
      revisionId: project.revisionId,
      body: { type: "progress", payload: { message } },
    });
  }

  function open(afterCursor: number, options: { pollMs?: number; heartbeatMs?: number } = {}) {
    const controller = new AbortController();
    const response = eventStreamResponse({
      db: t.db,
      taskId: project.taskId,
      afterCursor,
      signal: controller.signal,
      ...options,
    });
    return { response, reader: sseReader(response), abort: () => controller.abort() };
  }

  it("reads a task's events after a cursor in pages", async () => {
    await ingest(0, 7);
    const all = await readEventsAfter(t.db, { taskId: project.taskId, afterCursor: 0 });
    expect(all.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(all.hasMore).toBe(false);
    const third = all.events[2];
    if (!third) throw new Error("fixture");
    const page = await readEventsAfter(t.db, { taskId: project.taskId, afterCursor: third.cursor, limit: 3 });
    expect(page.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(page.hasMore).toBe(true);
    expect(page.events[0]).toEqual({
      id: `${RUN}-3`,
      seq: 3,
      at: 1_700_000_000_003,
      type: "agent.message",
      payload: { itemId: "item_3", text: "working 3" },
      cursor: page.events[0]?.cursor,
      revisionId: project.revisionId,
    });
  });

  it("sends the backlog after the cursor, then a live event as soon as it is appended", async () => {
    await ingest(0, 5);
    const { events } = await readEventsAfter(t.db, { taskId: project.taskId, afterCursor: 0 });
    const cursor = events[1]?.cursor ?? 0;
    // A long poll interval: only the in-process wake-up can deliver in under half of it. (Typically a few ms; the
    // bounds leave a loaded machine, and a MySQL write on it, all the room they need.)
    const stream = open(cursor, { pollMs: 10_000 });
    expect(stream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect((await stream.reader.events(3)).map((e) => e.seq)).toEqual([2, 3, 4]);

    const received = stream.reader.events(1);
    const started = performance.now();
    await progress("planning the schema");
    const [live] = await received;
    const latency = performance.now() - started;
    expect(live?.type).toBe("progress");
    expect(live?.payload).toEqual({ message: "planning the schema" });
    expect(latency).toBeLessThan(5_000);

    const batch = stream.reader.events(2);
    const batchStarted = performance.now();
    await ingest(5, 7);
    expect((await batch).map((e) => e.seq)).toEqual([5, 6]);
    expect(performance.now() - batchStarted).toBeLessThan(5_000);
    stream.abort();
  });

  it("resumes from Last-Event-ID without duplicates or gaps", async () => {
    await ingest(0, 3);
    const first = open(0);
    const seen = await first.reader.events(3);
    first.abort();
    await first.reader.cancel();
    // Written while the viewer was away: runner events, a platform event, more runner events.
    await ingest(3, 6);
    await progress("between batches");
    await ingest(6, 8);

    const lastEventId = String(seen.at(-1)?.cursor);
    const controller = new AbortController();
    const response = await openSharedEventStream(t.db, testPublicSite, {
      slug: project.slug,
      lastEventId,
      after: "0",
      signal: controller.signal,
    });
    const resumed = await sseReader(response).events(6);
    controller.abort();
    // The public stream sends no event ids (a runner's embed its revision id): events are told apart by cursor.
    const order = [...seen, ...resumed].map((e) => (e.type === "progress" ? "platform" : e.seq));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, "platform", 6, 7]);
    const cursors = [...seen, ...resumed].map((e) => e.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  it("pages a backlog larger than one page without gaps", async () => {
    await ingest(0, 500);
    await ingest(500, 1000);
    await ingest(1000, 1150);
    const stream = open(0);
    const events = await stream.reader.events(1150);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 1150 }, (_, i) => i));
    stream.abort();
  });

  it("finds events written by another app instance by polling", async () => {
    const stream = open(0, { pollMs: 100 });
    const received = stream.reader.events(1);
    // Written straight to the database: no in-process wake-up, as if another server had ingested it.
    await t.db
      .insertInto("event")
      .values({
        project_id: project.projectId,
        task_id: project.taskId,
        revision_id: project.revisionId,
        sandbox_id: sandbox.id,
        event_id: `${RUN}-0`,
        seq: 0,
        type: "runner.heartbeat",
        payload: "{}",
        created_at: Date.now(),
      })
      .execute();
    const [event] = await received;
    expect(event?.type).toBe("runner.heartbeat");
    stream.abort();
  });

  it("sends heartbeats while idle and stops, unsubscribed, when the client goes away", async () => {
    const stream = open(0, { heartbeatMs: 50, pollMs: 1_000 });
    let frame = await stream.reader.next();
    while (frame && frame.comment !== "heartbeat") frame = await stream.reader.next();
    expect(frame?.comment).toBe("heartbeat");
    expect(subscriberCount(project.taskId)).toBe(1);
    stream.abort();
    await expect(stream.reader.next()).resolves.toBeNull();
    expect(subscriberCount(project.taskId)).toBe(0);

    // A body cancelled by the server runtime (socket closed) without the request signal firing ends it too.
    const cancelledOnly = open(0, { pollMs: 10_000 });
    await cancelledOnly.reader.next();
    expect(subscriberCount(project.taskId)).toBe(1);
    const started = performance.now();
    await cancelledOnly.reader.cancel();
    expect(subscriberCount(project.taskId)).toBe(0);
    // Not left to the 10 s poll to notice.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("ends a shared stream when the link is revoked while someone watches, busy or idle", async () => {
    for (const busy of [false, true]) {
      const fixture = await createProjectFixture(t.db, ctx);
      const controller = new AbortController();
      const response = await openSharedEventStream(t.db, testPublicSite, {
        slug: fixture.slug,
        lastEventId: null,
        after: null,
        signal: controller.signal,
        timing: { heartbeatMs: 100 },
      });
      const reader = sseReader(response);
      await reader.next(); // retry line
      await t.db
        .updateTable("session")
        .set({ revoked_at: Date.now() })
        .where("slug", "=", fixture.slug)
        .execute();
      // A busy stream (an event every 20 ms, so never idle long enough for a heartbeat) must close just the same.
      let producing = busy;
      const producer = (async () => {
        for (let i = 0; producing; i++) {
          await appendPlatformEvent(t.db, {
            projectId: fixture.projectId,
            taskId: fixture.taskId,
            revisionId: fixture.revisionId,
            body: { type: "progress", payload: { message: `still going ${i}` } },
          });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const closed = await Promise.race([
        (async () => {
          for (let frame = await reader.next(); frame; frame = await reader.next()) {
            // keep reading until the server closes
          }
          return "closed";
        })(),
        // Closes at the next check (every 100 ms); the wait before calling it open is for a loaded machine.
        new Promise((resolve) => setTimeout(() => resolve("still open"), 10_000)),
      ]);
      producing = false;
      await producer;
      controller.abort();
      expect(closed, busy ? "busy" : "idle").toBe("closed");
    }
  });

  it("answers 404 for an unknown or revoked share link and 400 for a bad cursor", async () => {
    const request = { lastEventId: null, after: null, signal: new AbortController().signal };
    const unknown = await appErrorOf(
      openSharedEventStream(t.db, testPublicSite, { ...request, slug: "0123456789abcdefghjk" }),
    );
    expect([unknown.status, unknown.code]).toEqual([404, "not_found:route"]);
    const malformed = await appErrorOf(
      openSharedEventStream(t.db, testPublicSite, { ...request, slug: "../../etc" }),
    );
    expect(malformed.status).toBe(404);

    const badCursor = await appErrorOf(
      openSharedEventStream(t.db, testPublicSite, { ...request, slug: project.slug, after: "-1" }),
    );
    expect([badCursor.status, badCursor.code]).toEqual([400, "bad_request:input"]);

    await t.db
      .updateTable("session")
      .set({ revoked_at: Date.now() })
      .where("slug", "=", project.slug)
      .execute();
    const revoked = await appErrorOf(
      openSharedEventStream(t.db, testPublicSite, { ...request, slug: project.slug }),
    );
    expect([revoked.status, revoked.code]).toEqual([404, "not_found:route"]);
  });
});
