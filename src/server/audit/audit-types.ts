// The audit log as admins read it: client-safe (no database imports).

export type AuditEntry = {
  id: string;
  action: string;
  actorId: string | null;
  actorEmail: string | null;
  targetType: string | null;
  targetId: string | null;
  detail: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
  createdAt: number;
};

export type AuditPage = { entries: AuditEntry[]; nextCursor: string | null };
