import type { Executor } from "@/server/db/connection";
import {
  listCheckpointRowsOfTask,
  listResourceIdsOfProject,
  type PublicSessionRow,
} from "@/server/db/queries/share-links";
import { type PublicEvent, privateEventTypes } from "@/server/events/public-event";
import { redactJson } from "@/server/events/redact";
import type { StoredEvent } from "@/server/events/schema";
import { type PreviewOrigins, type PreviewTarget, publicPreviewUrl } from "@/server/previews/preview-origin";
import { createHostScrubber, type PublicHost, publicLink } from "./host-details";

// Stored events → what a share link's viewers get. Secrets are already redacted at ingestion; this removes what is
// not secret but is the operator's: the platform's internal ids (revision, project, task, user, sandbox, database
// branch, share session) and the operator's email, wherever they appear in payload text (a sandbox knows its own
// id, runner event ids embed the revision id), and the host's details (paths on the host, internal addresses, the
// model gateway: see host-details.ts). Long command output is clipped: viewers need its gist and its end.

export const HIDDEN = "[hidden]";

/** Output kept per command or output chunk: the first and last characters, the middle elided. */
const OUTPUT_HEAD = 2_000;
const OUTPUT_TAIL = 6_000;

export type PublicEventContext = {
  /** The checkpoint ordinal of a revision; undefined for a revision not known when the context was loaded. */
  checkpointOf(revisionId: string): number | undefined;
  scrub(text: string): string;
  /**
   * A checkpoint's preview or deploy link as the public may see it: a local one on its preview origin, a cloud one
   * as it is, null when it is an internal address.
   */
  link(url: string | null, target: PreviewTarget): string | null;
};

/**
 * What the public replay needs to know of this Kiln: its own host, which it hides, and the origins its local
 * previews are served on, which it links. The `Platform` is one (entry points hand it on as it is).
 */
export type PublicSite = { publicHost: PublicHost; readonly previewOrigins: PreviewOrigins };

/** Replaces every occurrence of the identifiers (case-insensitive) with "[hidden]". */
export function createScrubber(identifiers: readonly string[]): (text: string) => string {
  const distinct = [...new Set(identifiers.filter((id) => id.length >= 4))];
  if (distinct.length === 0) return (text) => text;
  // Longest first, so an id that contains another is replaced whole.
  distinct.sort((a, b) => b.length - a.length);
  const pattern = new RegExp(distinct.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi");
  return (text) => text.replace(pattern, HIDDEN);
}

export function clipOutput(text: string): string {
  if (text.length <= OUTPUT_HEAD + OUTPUT_TAIL) return text;
  const omitted = text.length - OUTPUT_HEAD - OUTPUT_TAIL;
  return `${text.slice(0, OUTPUT_HEAD)}\n…[${omitted.toLocaleString("en")} characters omitted]…\n${text.slice(-OUTPUT_TAIL)}`;
}

function clipped(event: StoredEvent): StoredEvent {
  if (event.type === "agent.command") {
    return { ...event, payload: { ...event.payload, output: clipOutput(event.payload.output) } };
  }
  if (event.type === "runner.output") {
    return { ...event, payload: { ...event.payload, text: clipOutput(event.payload.text) } };
  }
  return event;
}

/** The public shape of one stored event, or null for event types viewers never get. */
export function toPublicEvent(event: StoredEvent, context: PublicEventContext): PublicEvent | null {
  if (privateEventTypes.has(event.type)) return null;
  const body = clipped(event);
  return {
    type: body.type,
    // Scrubbing only rewrites strings, so the payload keeps its schema shape.
    payload: redactJson(body.payload, context.scrub),
    cursor: event.cursor,
    seq: event.seq,
    at: event.at,
    checkpoint: event.revisionId === null ? null : (context.checkpointOf(event.revisionId) ?? null),
  } as PublicEvent;
}

/** What must be scrubbed and how revisions map to checkpoints, from the rows that name them. */
export function buildPublicEventContext(
  site: PublicSite,
  session: PublicSessionRow,
  checkpoints: ReadonlyArray<{ id: string; ordinal: number }>,
  resourceIds: readonly string[],
): PublicEventContext {
  const host = site.publicHost;
  const ordinals = new Map(checkpoints.map((row) => [row.id, row.ordinal]));
  const scrubHost = createHostScrubber(host);
  const scrubIds = createScrubber([
    session.session_id,
    session.task_id,
    session.project_id,
    session.user_id,
    session.user_email,
    ...ordinals.keys(),
    ...resourceIds,
  ]);
  return {
    checkpointOf: (revisionId) => ordinals.get(revisionId),
    // Host paths first: they contain the sandbox's id, which would otherwise be hidden mid-path.
    scrub: (text) => scrubIds(scrubHost(text)),
    link: (url, target) => publicLink(publicPreviewUrl(site.previewOrigins, target, url), host),
  };
}

export async function loadPublicEventContext(
  db: Executor,
  site: PublicSite,
  session: PublicSessionRow,
): Promise<PublicEventContext> {
  const [checkpoints, resourceIds] = await Promise.all([
    listCheckpointRowsOfTask(db, session.task_id),
    listResourceIdsOfProject(db, session.project_id),
  ]);
  return buildPublicEventContext(site, session, checkpoints, resourceIds);
}

/** A context is reloaded at least this often, for resources created while streams run. */
const CONTEXT_MAX_AGE_MS = 30_000;
const MAX_CACHED_CONTEXTS = 1_000;

type CachedContext = { loadedAt: number; context: Promise<PublicEventContext> };

// Shared by every stream of a share link in this process: a hundred viewers opening (or woken) at once load it
// once. Keyed by the share session's id, which is unique across databases too (random ids); a process serves one
// site (its platform's), so the site is not part of the key.
const contexts = new Map<string, CachedContext>();

function loadShared(
  db: Executor,
  site: PublicSite,
  session: PublicSessionRow,
  now: number,
): Promise<PublicEventContext> {
  const entry: CachedContext = { loadedAt: now, context: loadPublicEventContext(db, site, session) };
  entry.context.catch(() => {
    // Not remembered when it failed: the next page tries again (the stream reports the error itself).
    if (contexts.get(session.session_id) === entry) contexts.delete(session.session_id);
  });
  contexts.delete(session.session_id);
  contexts.set(session.session_id, entry);
  // Oldest first (insertion order): a bounded cache, whatever the number of share links watched.
  for (const key of contexts.keys()) {
    if (contexts.size <= MAX_CACHED_CONTEXTS) break;
    contexts.delete(key);
  }
  return entry.context;
}

/**
 * Maps pages of a live stream to the public shape. A revision created after the context was loaded (a follow-up)
 * is not in it yet: a page that names one reloads it (after the page was read, so the new ids are scrubbed and the
 * ordinal known). The first call, even with no events, loads the context, so it is ready before live events come.
 */
export function publicEventMapper(
  db: Executor,
  site: PublicSite,
  session: PublicSessionRow,
  now: () => number = Date.now,
): (events: StoredEvent[]) => Promise<PublicEvent[]> {
  return async (events) => {
    const cached = contexts.get(session.session_id);
    let context = await (cached && now() - cached.loadedAt < CONTEXT_MAX_AGE_MS
      ? cached.context
      : loadShared(db, site, session, now()));
    const known = context;
    if (
      events.some((event) => event.revisionId !== null && known.checkpointOf(event.revisionId) === undefined)
    ) {
      context = await loadShared(db, site, session, now());
    }
    const out: PublicEvent[] = [];
    for (const event of events) {
      const mapped = toPublicEvent(event, context);
      if (mapped) out.push(mapped);
    }
    return out;
  };
}
