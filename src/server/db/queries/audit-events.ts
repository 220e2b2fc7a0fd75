import type { Executor } from "../connection";
import type { AuditEvent } from "../schema";

export type AuditEventWithActor = AuditEvent & { actor_email: string | null };

/** Newest first; `before` is the (created_at, id) of the last row of the previous page. */
export async function listAuditEventsPage(
  db: Executor,
  limit: number,
  before?: { createdAt: number; id: number },
): Promise<AuditEventWithActor[]> {
  let query = db
    .selectFrom("audit_event")
    .leftJoin("user", "user.id", "audit_event.actor_user_id")
    .selectAll("audit_event")
    .select("user.email as actor_email");
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb("audit_event.created_at", "<", before.createdAt),
        eb.and([eb("audit_event.created_at", "=", before.createdAt), eb("audit_event.id", "<", before.id)]),
      ]),
    );
  }
  return query
    .orderBy("audit_event.created_at", "desc")
    .orderBy("audit_event.id", "desc")
    .limit(limit)
    .execute();
}
