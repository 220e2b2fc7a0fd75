import type { Executor } from "@/server/db/connection";
import { findLiveShareSessionBySlug } from "@/server/db/queries/events";
import { AppError } from "@/server/errors";
import { type EventStreamOptions, eventStreamResponse, parseCursor } from "./stream";

// The public side of a share link: anyone holding the slug may watch (and replay) its task's events, read-only.
// Stored events are already redacted; nothing else about the project or its operator is sent.

const SLUG = /^[0-9a-z]{8,64}$/;

export type SharedStreamRequest = {
  slug: string;
  lastEventId: string | null;
  after: string | null;
  signal: AbortSignal;
  /** Timing overrides (tests). */
  timing?: Pick<EventStreamOptions, "pollMs" | "heartbeatMs">;
};

const notFound = () => new AppError("not_found:route", "This share link does not exist or was revoked.");

export async function openSharedEventStream(db: Executor, request: SharedStreamRequest): Promise<Response> {
  if (!SLUG.test(request.slug)) throw notFound();
  const session = await findLiveShareSessionBySlug(db, request.slug);
  if (!session) throw notFound();
  const afterCursor = parseCursor(request.lastEventId, request.after);
  if (afterCursor === null) {
    throw new AppError(
      "bad_request:input",
      "The cursor (Last-Event-ID or ?after=) must be a non-negative integer.",
    );
  }
  return eventStreamResponse({
    db,
    taskId: session.task_id,
    afterCursor,
    signal: request.signal,
    ...request.timing,
    isStillAllowed: async () => (await findLiveShareSessionBySlug(db, request.slug))?.id === session.id,
  });
}
