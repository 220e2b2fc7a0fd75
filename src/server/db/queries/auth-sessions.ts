import type { Executor } from "../connection";
import type { User } from "../schema";

export type NewAuthSession = {
  id: string;
  userId: string;
  now: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
};

export async function insertAuthSession(db: Executor, s: NewAuthSession): Promise<void> {
  await db
    .insertInto("auth_session")
    .values({
      id: s.id,
      user_id: s.userId,
      created_at: s.now,
      expires_at: s.expiresAt,
      last_seen_at: s.now,
      revoked_at: null,
      ip: s.ip,
      user_agent: s.userAgent,
    })
    .execute();
}

/** The operator behind a live (unexpired, unrevoked) session, unless an admin has disabled them. */
export async function findUserByLiveSession(
  db: Executor,
  sessionId: string,
  now: number,
): Promise<{ user: User; lastSeenAt: number } | undefined> {
  const row = await db
    .selectFrom("auth_session")
    .innerJoin("user", "user.id", "auth_session.user_id")
    .selectAll("user")
    .select("auth_session.last_seen_at as session_last_seen_at")
    .where("auth_session.id", "=", sessionId)
    .where("auth_session.revoked_at", "is", null)
    .where("auth_session.expires_at", ">", now)
    .where("user.disabled_at", "is", null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { session_last_seen_at, ...user } = row;
  return { user, lastSeenAt: session_last_seen_at };
}

export async function touchAuthSession(db: Executor, sessionId: string, now: number): Promise<void> {
  await db.updateTable("auth_session").set({ last_seen_at: now }).where("id", "=", sessionId).execute();
}

export async function revokeAuthSession(db: Executor, sessionId: string, now: number): Promise<void> {
  await db
    .updateTable("auth_session")
    .set({ revoked_at: now })
    .where("id", "=", sessionId)
    .where("revoked_at", "is", null)
    .execute();
}

export async function revokeAllAuthSessionsOfUser(db: Executor, userId: string, now: number): Promise<void> {
  await db
    .updateTable("auth_session")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
}

export async function deleteExpiredAuthSessions(db: Executor, now: number): Promise<void> {
  await db.deleteFrom("auth_session").where("expires_at", "<=", now).execute();
}
