import type { Executor } from "@/server/db/connection";

// The audit log (issue 11): admin actions and credential changes, with who, what, when and from where. Details
// hold names, ids and outcomes, never a secret: keys that name one are dropped before the row is written.

export const auditActions = [
  "operator.create",
  "operator.invite",
  "operator.disable",
  "operator.enable",
  "operator.role",
  "operator.password_reset",
  "operator.password_set",
  "operator.quotas",
  "platform.pause",
  "platform.resume",
  "project.budget",
  "credential.put",
  "credential.delete",
  "api_token.create",
  "api_token.revoke",
  "password.change",
  "login.failed",
] as const;
export type AuditAction = (typeof auditActions)[number];

export type AuditDetail = Record<string, string | number | boolean | null>;

/** Who acts and from where, as an entry point knows it (clientMeta gives ip and userAgent). */
export type AuditRequest = { actorId: string | null; ip: string | null; userAgent: string | null };

export type AuditInput = {
  /** Null when nobody is signed in (a failed login, an invite link). */
  actorId: string | null;
  action: AuditAction;
  target?: { type: string; id: string } | null;
  detail?: AuditDetail;
  ip?: string | null;
  userAgent?: string | null;
};

const SECRET_KEY = /password|secret|ciphertext|plaintext|^token$|api_?key/i;

function withoutSecrets(detail: AuditDetail): AuditDetail {
  return Object.fromEntries(Object.entries(detail).filter(([key]) => !SECRET_KEY.test(key)));
}

export async function recordAudit(db: Executor, input: AuditInput, now = Date.now()): Promise<void> {
  await db
    .insertInto("audit_event")
    .values({
      actor_user_id: input.actorId,
      action: input.action,
      target_type: input.target?.type ?? null,
      target_id: input.target?.id.slice(0, 64) ?? null,
      detail: JSON.stringify(withoutSecrets(input.detail ?? {})),
      ip: input.ip?.slice(0, 64) ?? null,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
      created_at: now,
    })
    .execute();
}
