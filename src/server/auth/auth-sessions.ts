import { newOpaqueToken, sha256Hex } from "@/server/crypto/tokens";
import type { Executor } from "@/server/db/connection";
import {
  findUserByLiveSession,
  insertAuthSession,
  revokeAuthSession,
  touchAuthSession,
} from "@/server/db/queries/auth-sessions";
import type { User } from "@/server/db/schema";

// The cookie carries a random token; the database keeps only its hash, so a leaked table opens no session.

const TOUCH_EVERY_MS = 5 * 60_000;

export type SessionMeta = { ip: string | null; userAgent: string | null };

export async function startAuthSession(
  db: Executor,
  userId: string,
  meta: SessionMeta,
  ttlMs: number,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const token = newOpaqueToken();
  const expiresAt = now + ttlMs;
  await insertAuthSession(db, {
    id: sha256Hex(token),
    userId,
    now,
    expiresAt,
    ip: meta.ip?.slice(0, 64) ?? null,
    userAgent: meta.userAgent?.slice(0, 300) ?? null,
  });
  return { token, expiresAt };
}

export async function findUserBySessionToken(
  db: Executor,
  token: string,
  now = Date.now(),
): Promise<User | undefined> {
  if (!token || token.length > 200) return undefined;
  const sessionId = sha256Hex(token);
  const found = await findUserByLiveSession(db, sessionId, now);
  if (!found) return undefined;
  if (now - found.lastSeenAt > TOUCH_EVERY_MS) await touchAuthSession(db, sessionId, now);
  return found.user;
}

export async function endAuthSession(db: Executor, token: string, now = Date.now()): Promise<void> {
  await revokeAuthSession(db, sha256Hex(token), now);
}
