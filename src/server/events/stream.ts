import { performance } from "node:perf_hooks";
import type { Executor } from "@/server/db/connection";
import { listEventsOfTaskAfter } from "@/server/db/queries/events";
import { logError } from "@/server/http/log";
import { subscribeToTask } from "./bus";
import type { StoredEvent } from "./schema";
import { toStoredEvent } from "./stored-event";

// Live event streams (SSE) from a cursor. A reconnect and a replay are the same thing: "everything after cursor N,
// then whatever comes next". See docs/pipeline.md "Events" and ARCHITECTURE.md "Streaming".

const PAGE_SIZE = 500;

export type ReadEventsAfterInput = { taskId: string; afterCursor: number; limit?: number };

/**
 * One page of a task's events after a cursor, in cursor order. `nextCursor` is where the next read starts: past
 * every row read, including rows the current schema cannot parse (skipped, never re-read forever).
 */
export async function readEventsAfter(
  db: Executor,
  input: ReadEventsAfterInput,
): Promise<{ events: StoredEvent[]; nextCursor: number; hasMore: boolean }> {
  const limit = Math.min(Math.max(input.limit ?? PAGE_SIZE, 1), PAGE_SIZE);
  const rows = await listEventsOfTaskAfter(db, input.taskId, input.afterCursor, limit);
  const events = rows.map(toStoredEvent).filter((event): event is StoredEvent => event !== null);
  const last = rows.at(-1);
  return {
    events,
    nextCursor: last ? Number(last.id) : input.afterCursor,
    hasMore: rows.length === limit,
  };
}

/** `Last-Event-ID` (what EventSource sends on reconnect) wins over `?after=`; neither means "from the start". */
export function parseCursor(lastEventId: string | null, after: string | null): number | null {
  const raw = lastEventId ?? after;
  if (raw === null || raw === "") return 0;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/** What a stream frame carries: anything with the cursor it is resumed from and its event type. */
export type SseEvent = { cursor: number; type: string };

export function formatSseEvent(event: SseEvent): string {
  // JSON.stringify escapes newlines inside strings, so `data:` stays one line.
  return `id: ${event.cursor}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export type EventStreamOptions = {
  db: Executor;
  taskId: string;
  afterCursor: number;
  /** The request's signal: the stream ends when the client goes away. */
  signal: AbortSignal;
  /** Re-read the database this often for events other app instances wrote. */
  pollMs?: number;
  heartbeatMs?: number;
  /**
   * The stream closes after this long; EventSource reconnects with Last-Event-ID and carries on, so no stream
   * (and no poll loop) lives forever.
   */
  maxLifetimeMs?: number;
  /** Checked once per heartbeat interval, busy or idle; false ends the stream (a share link revoked meanwhile). */
  isStillAllowed?: () => Promise<boolean>;
  /**
   * What each page of stored events is sent as (the public stream sends its own shape, and may drop events).
   * Default: as stored. The cursor still advances past dropped events.
   */
  transform?: (events: StoredEvent[]) => Promise<SseEvent[]> | SseEvent[];
};

type WakeState = { woken: boolean; wokenAt: number; wake?: () => void };

type SharedRead = { startedAt: number; page: ReturnType<typeof readEventsAfter> };
const readsInFlight = new WeakMap<Executor, Map<string, SharedRead>>();

/**
 * `readEventsAfter`, shared by the streams of one task that are at the same cursor: one write wakes every viewer
 * of a task at once, and a hundred identical queries would queue on the database. A read in flight is joined only
 * if it started at or after `notBefore` (the caller's wake-up), so it cannot miss the write that woke the caller.
 */
function readEventsAfterShared(db: Executor, taskId: string, afterCursor: number, notBefore: number) {
  let reads = readsInFlight.get(db);
  if (!reads) {
    reads = new Map();
    readsInFlight.set(db, reads);
  }
  const key = `${taskId}:${afterCursor}`;
  const running = reads.get(key);
  if (running && running.startedAt >= notBefore) return running.page;
  const read: SharedRead = {
    startedAt: performance.now(),
    page: readEventsAfter(db, { taskId, afterCursor }).finally(() => {
      if (reads.get(key) === read) reads.delete(key);
    }),
  };
  reads.set(key, read);
  return read.page;
}

/** Resolves on the first of: a wake-up already pending or arriving, `ms` elapsing, or `signal` aborting. */
function waitForWake(state: WakeState, ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    if (state.woken || signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      state.wake = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    state.wake = done;
  });
}

/**
 * The SSE frames of a task's stream: the backlog after the cursor in pages, then live events as they are written
 * (woken in-process at once, else found by the poll), with a comment line as heartbeat. Ends when the signal
 * aborts, the lifetime is up, or `isStillAllowed` says no.
 */
export async function* eventStreamFrames(options: EventStreamOptions): AsyncGenerator<string> {
  const { db, taskId, signal } = options;
  const pollMs = options.pollMs ?? 1_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const endsAt = Date.now() + (options.maxLifetimeMs ?? 10 * 60_000);
  const state: WakeState = { woken: false, wokenAt: 0 };
  // Subscribed before the first read: a write landing between the read and the wait still wakes us.
  const unsubscribe = subscribeToTask(taskId, () => {
    state.woken = true;
    state.wokenAt = performance.now();
    state.wake?.();
  });
  let cursor = options.afterCursor;
  let lastWriteAt = Date.now();
  let checkedAt = Date.now();
  try {
    yield `retry: 3000\n\n`;
    while (!signal.aborted && Date.now() < endsAt) {
      if (options.isStillAllowed && Date.now() - checkedAt >= heartbeatMs) {
        if (!(await options.isStillAllowed())) return;
        checkedAt = Date.now();
      }
      // Woken: any read that started after the wake-up sees the write. Otherwise (first read, poll): only a new one.
      const notBefore = state.woken ? state.wokenAt : performance.now();
      state.woken = false;
      const cursorBefore = cursor;
      const page = await readEventsAfterShared(db, taskId, cursor, notBefore);
      cursor = page.nextCursor;
      const sent = options.transform ? await options.transform(page.events) : page.events;
      const sentUpTo = sent.at(-1)?.cursor ?? 0;
      // Rows not sent (dropped by the transform, or unreadable) still move the client's Last-Event-ID: an id-only
      // frame sets it without dispatching an event, so a reconnect does not read them again.
      const skipped =
        page.nextCursor > cursorBefore && page.nextCursor > sentUpTo ? `id: ${page.nextCursor}\n\n` : "";
      if (sent.length > 0 || skipped) {
        yield sent.map(formatSseEvent).join("") + skipped;
        lastWriteAt = Date.now();
      }
      if (page.hasMore) continue;
      if (Date.now() - lastWriteAt >= heartbeatMs) {
        yield `: heartbeat\n\n`;
        lastWriteAt = Date.now();
      }
      const untilHeartbeat = heartbeatMs - (Date.now() - lastWriteAt);
      await waitForWake(state, Math.min(pollMs, untilHeartbeat, endsAt - Date.now()), signal);
    }
  } finally {
    unsubscribe();
  }
}

/** An SSE `Response` for a task's events after `afterCursor`. */
export function eventStreamResponse(options: EventStreamOptions): Response {
  const encoder = new TextEncoder();
  // Cancelling the body (client gone) must end the generator's wait even if the request signal never fires.
  const cancelled = new AbortController();
  const frames = eventStreamFrames({
    ...options,
    signal: AbortSignal.any([options.signal, cancelled.signal]),
  });
  const body = new ReadableStream<Uint8Array>({
    // Pull-based: the next frame is produced only when the client has taken the previous one (backpressure).
    async pull(controller) {
      let next: IteratorResult<string>;
      try {
        next = await frames.next();
      } catch (error) {
        logError("events stream", error);
        if (!cancelled.signal.aborted) controller.error(error);
        return;
      }
      if (cancelled.signal.aborted) return;
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      cancelled.abort();
      await frames.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
