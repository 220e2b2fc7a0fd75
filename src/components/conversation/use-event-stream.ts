"use client";

import { useEffect, useRef, useState } from "react";
import type { z } from "zod";
import { eventTypes } from "@/server/events/public-event";
import { initialStreamStatus, nextStreamStatus, type StreamStatus } from "./stream-status";

export type UseEventStreamOptions<E extends { cursor: number }> = {
  /** The SSE endpoint (e.g. `/api/v1/sessions/<slug>/events`); `?after=<cursor>` is added. */
  url: string;
  /** Events already on the page (server-rendered), in cursor order. */
  initialEvents: readonly E[];
  /** Where the stream starts: after this cursor (past every event the page was rendered with). */
  lastCursor: number;
  /** Every `data:` line is parsed with this (the same schema the server's shape is built to). */
  schema: z.ZodType<E>;
  /** Connect only while true (a finished session needs no stream once everything is on the page). */
  enabled?: boolean;
};

export type EventStreamState<E> = StreamStatus & {
  /** The initial events followed by every streamed one, in cursor order, each cursor once. */
  events: E[];
};

/** Streamed events reach React at most this often: a backlog arrives as hundreds of frames in one burst. */
const FLUSH_MS = 16;

/**
 * Live events over SSE from a cursor. EventSource reconnects by itself with `Last-Event-ID` (which the server
 * prefers over `?after=`), so a dropped connection resumes without gaps; frames are de-duplicated by cursor.
 * The initial events are read once, on mount: later changes to them are ignored (the stream carries on).
 */
export function useEventStream<E extends { cursor: number }>(
  options: UseEventStreamOptions<E>,
): EventStreamState<E> {
  const { url, lastCursor, schema, enabled = true } = options;
  const [events, setEvents] = useState<E[]>(() => [...options.initialEvents]);
  const [status, setStatus] = useState<StreamStatus>(initialStreamStatus);
  // The highest cursor held: the stream resumes after it, and anything at or below it is a duplicate.
  const highest = useRef(Math.max(lastCursor, options.initialEvents.at(-1)?.cursor ?? 0));

  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource(`${url}${url.includes("?") ? "&" : "?"}after=${highest.current}`);
    let pending: E[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      if (batch.length > 0) setEvents((current) => [...current, ...batch]);
    };
    const onFrame = (message: MessageEvent<string>) => {
      let json: unknown;
      try {
        json = JSON.parse(message.data);
      } catch (error) {
        // A frame that is not JSON is a server bug; skipping it keeps the rest of the stream readable.
        console.warn("event stream: a frame is not JSON", error);
        return;
      }
      const parsed = schema.safeParse(json);
      // An event this page's schema does not know (a newer server): skipped rather than rendered half-understood.
      if (!parsed.success) return;
      if (parsed.data.cursor <= highest.current) return;
      highest.current = parsed.data.cursor;
      pending.push(parsed.data);
      timer ??= setTimeout(flush, FLUSH_MS);
    };
    for (const type of eventTypes) source.addEventListener(type, onFrame);
    source.addEventListener("message", onFrame);
    source.onopen = () => setStatus(nextStreamStatus("open"));
    source.onerror = () => {
      // CLOSED: the server answered with an error status (404 for a revoked link); EventSource gives up.
      setStatus(nextStreamStatus(source.readyState === EventSource.CLOSED ? "closed" : "error"));
    };
    return () => {
      source.close();
      if (timer !== undefined) clearTimeout(timer);
      flush();
      setStatus((current) => ({ ...initialStreamStatus, closed: current.closed }));
    };
  }, [url, schema, enabled]);

  return { events, ...status };
}
