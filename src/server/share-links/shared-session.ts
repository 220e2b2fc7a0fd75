import type { Executor } from "@/server/db/connection";
import { listEventsOfTaskAfter } from "@/server/db/queries/events";
import {
  type CheckpointRow,
  findPublicSessionBySlug,
  listCheckpointRowsOfTask,
  listResourceIdsOfProject,
  maxEventCursorOfTask,
  type PublicSessionRow,
} from "@/server/db/queries/share-links";
import { AppError } from "@/server/errors";
import { type PublicEvent, privateEventTypes } from "@/server/events/public-event";
import { toStoredEvent } from "@/server/events/stored-event";
import { isTerminal } from "@/server/revisions/state-machine";
import {
  buildPublicEventContext,
  type PublicEventContext,
  type PublicSite,
  toPublicEvent,
} from "./public-events";
import type { SharedCheckpoint, SharedSession } from "./shared-session-types";

// What the public replay page (/s/[slug]) shows: the session's checkpoints and its events, in the public shape.
// No login; the slug (160 random bits, src/server/ids.ts) is the only proof. Nothing about the operator, the
// project's resources or internal ids is included (see public-events.ts).

/** Share slugs are lowercase base32; anything else is not a slug and is answered like an unknown one. */
const SHARE_SLUG = /^[0-9a-z]{8,64}$/;

/**
 * Events sent with the page. A longer session's rest follows over the stream from `lastCursor` (pages of 500),
 * which keeps the page's HTML small enough to be interactive quickly.
 */
export const SHARED_BACKLOG_LIMIT = 1_000;

export function isShareSlug(slug: string): boolean {
  return SHARE_SLUG.test(slug);
}

const notFound = () => new AppError("not_found:route", "This share link does not exist or was revoked.");

/** The live (not revoked) share session of a slug, or not_found:route that says nothing more. */
export async function getPublicSessionOrThrow(db: Executor, slug: string): Promise<PublicSessionRow> {
  if (!isShareSlug(slug)) throw notFound();
  const session = await findPublicSessionBySlug(db, slug);
  if (!session) throw notFound();
  return session;
}

function toSharedCheckpoint(row: CheckpointRow, context: PublicEventContext): SharedCheckpoint {
  const asleep = row.sandbox_stopped_at !== null && row.sandbox_stopped_at !== undefined;
  return {
    ordinal: row.ordinal,
    kind: row.kind,
    prompt: context.scrub(row.prompt),
    status: row.status,
    step: row.step,
    reason: row.error_message ? context.scrub(row.error_message) : null,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    commitShort: row.commit_sha ? row.commit_sha.slice(0, 7) : null,
    previewUrl: asleep ? null : context.link(row.preview_url, { kind: "preview", revisionId: row.id }),
    deployUrl: context.link(row.deploy_url, { kind: "deploy", revisionId: row.id }),
    hasScreenshot: row.screenshot_key !== null,
  };
}

export async function getSharedSession(
  db: Executor,
  site: PublicSite,
  slug: string,
  options: { backlogLimit?: number } = {},
): Promise<SharedSession> {
  const session = await getPublicSessionOrThrow(db, slug);
  const limit = Math.max(1, options.backlogLimit ?? SHARED_BACKLOG_LIMIT);
  const rows = await listEventsOfTaskAfter(db, session.task_id, 0, limit + 1);
  const complete = rows.length <= limit;
  // Read after the events: every revision and sandbox an event read can name is then known (and scrubbed), and
  // events written meanwhile (a checkpoint that just ended) are past the backlog but not past `endCursor`.
  const [checkpointRows, resourceIds, endCursor] = await Promise.all([
    listCheckpointRowsOfTask(db, session.task_id),
    listResourceIdsOfProject(db, session.project_id),
    maxEventCursorOfTask(db, session.task_id, [...privateEventTypes]),
  ]);
  const context = buildPublicEventContext(site, session, checkpointRows, resourceIds);
  const kept = complete ? rows : rows.slice(0, limit);
  const events: PublicEvent[] = [];
  for (const row of kept) {
    const stored = toStoredEvent(row);
    const mapped = stored ? toPublicEvent(stored, context) : null;
    if (mapped) events.push(mapped);
  }
  return {
    slug: session.slug,
    title: context.scrub(session.title),
    live: checkpointRows.some((row) => !isTerminal(row.status)),
    checkpoints: checkpointRows.map((row) => toSharedCheckpoint(row, context)),
    events,
    // Past every row read, dropped ones included, so the stream never re-sends or skips one.
    lastCursor: Number(kept.at(-1)?.id ?? 0),
    complete,
    endCursor,
  };
}
