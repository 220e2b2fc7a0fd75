import type { EventRow } from "@/server/db/queries/events";
import { type EventBody, eventBodySchema, type StoredEvent } from "./schema";

/**
 * A stored row as the client sees it. Rows are re-parsed with the protocol schema, so a row the current schema no
 * longer understands (written by an older version) is reported as null instead of reaching a client malformed.
 */
export function toStoredEvent(row: EventRow): StoredEvent | null {
  const body = parseBody(row.type, row.payload);
  if (!body) return null;
  return {
    ...body,
    id: row.event_id,
    seq: Number(row.seq),
    at: Number(row.created_at),
    cursor: Number(row.id),
    revisionId: row.revision_id,
  };
}

function parseBody(type: string, payload: string): EventBody | null {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
  const result = eventBodySchema.safeParse({ type, payload: json });
  return result.success ? result.data : null;
}
