import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import { type AuditEventWithActor, listAuditEventsPage } from "@/server/db/queries/audit-events";
import { AppError } from "@/server/errors";
import type { AuditEntry, AuditPage } from "./audit-types";

export const auditPageSchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// A cursor is the (created_at, id) of the last entry of a page: stable while new entries arrive at the top.
function encodeCursor(row: { created_at: number; id: number }): string {
  return Buffer.from(`${row.created_at}.${row.id}`, "utf8").toString("base64url");
}

function readCursor(cursor: string): { createdAt: number; id: number } | undefined {
  const match = /^(\d{1,16})\.(\d{1,19})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match?.[1] && match[2] ? { createdAt: Number(match[1]), id: Number(match[2]) } : undefined;
}

/** Whether a cursor came from a page of this log (a page given a bad one shows the newest entries instead). */
export function isAuditCursor(cursor: string): boolean {
  return readCursor(cursor) !== undefined;
}

function decodeCursor(cursor: string): { createdAt: number; id: number } {
  const decoded = readCursor(cursor);
  if (!decoded) throw new AppError("bad_request:input", "The cursor is not valid.");
  return decoded;
}

function parseDetail(text: string): Record<string, unknown> {
  const parsed = z.record(z.string(), z.unknown()).safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

function toAuditEntry(row: AuditEventWithActor): AuditEntry {
  return {
    id: String(row.id),
    action: row.action,
    actorId: row.actor_user_id,
    actorEmail: row.actor_email,
    targetType: row.target_type,
    targetId: row.target_id,
    detail: parseDetail(row.detail),
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: Number(row.created_at),
  };
}

/** The audit log, newest first, a page at a time. */
export async function listAuditEvents(
  db: Executor,
  page: { cursor?: string; limit: number },
): Promise<AuditPage> {
  const before = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await listAuditEventsPage(db, page.limit + 1, before);
  const entries = rows.slice(0, page.limit);
  const last = entries.at(-1);
  return {
    entries: entries.map(toAuditEntry),
    nextCursor:
      rows.length > page.limit && last
        ? encodeCursor({ created_at: Number(last.created_at), id: Number(last.id) })
        : null,
  };
}
