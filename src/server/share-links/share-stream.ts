import type { Executor } from "@/server/db/connection";
import { findPublicSessionBySlug } from "@/server/db/queries/share-links";
import { AppError } from "@/server/errors";
import { type PublicSite, publicEventMapper } from "@/server/share-links/public-events";
import { getPublicSessionOrThrow } from "@/server/share-links/shared-session";
import { type EventStreamOptions, eventStreamResponse, parseCursor } from "../events/stream";

// The public side of a share link: anyone holding the slug may watch (and replay) its task's events, read-only.
// Stored events are already redacted; they are sent in the public shape (checkpoint ordinals instead of revision
// ids, internal ids and the operator's email scrubbed, see public-events.ts), and nothing else
// about the project or its operator is sent.

export type SharedStreamRequest = {
  slug: string;
  lastEventId: string | null;
  after: string | null;
  signal: AbortSignal;
  /** Timing overrides (tests). */
  timing?: Pick<EventStreamOptions, "pollMs" | "heartbeatMs">;
};

export async function openSharedEventStream(
  db: Executor,
  site: PublicSite,
  request: SharedStreamRequest,
): Promise<Response> {
  const session = await getPublicSessionOrThrow(db, request.slug);
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
    isStillAllowed: async () =>
      (await findPublicSessionBySlug(db, request.slug))?.session_id === session.session_id,
    transform: publicEventMapper(db, site, session),
  });
}
