import type { Executor } from "../connection";
import type { ApiToken, User } from "../schema";

export async function insertApiToken(
  db: Executor,
  token: Pick<ApiToken, "id" | "user_id" | "name" | "token_hash" | "display_prefix" | "created_at">,
): Promise<void> {
  await db
    .insertInto("api_token")
    .values({ ...token, last_used_at: null, revoked_at: null })
    .execute();
}

export async function findUserByApiTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<{ user: User; tokenId: string; lastUsedAt: number | null } | undefined> {
  const row = await db
    .selectFrom("api_token")
    .innerJoin("user", "user.id", "api_token.user_id")
    .selectAll("user")
    .select(["api_token.id as token_id", "api_token.last_used_at as token_last_used_at"])
    .where("api_token.token_hash", "=", tokenHash)
    .where("api_token.revoked_at", "is", null)
    .where("user.disabled_at", "is", null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { token_id, token_last_used_at, ...user } = row;
  return { user, tokenId: token_id, lastUsedAt: token_last_used_at };
}

export async function touchApiToken(db: Executor, tokenId: string, now: number): Promise<void> {
  await db.updateTable("api_token").set({ last_used_at: now }).where("id", "=", tokenId).execute();
}

export async function listApiTokensOfUser(db: Executor, userId: string): Promise<ApiToken[]> {
  return db
    .selectFrom("api_token")
    .selectAll()
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .orderBy("created_at", "desc")
    .execute();
}

/** Revokes the operator's own token; returns false when no such live token is theirs. */
export async function revokeApiTokenOfUser(
  db: Executor,
  userId: string,
  tokenId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("api_token")
    .set({ revoked_at: now })
    .where("id", "=", tokenId)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes every live token of an operator (on a password change: a token is as strong as the password). */
export async function revokeAllApiTokensOfUser(db: Executor, userId: string, now: number): Promise<void> {
  await db
    .updateTable("api_token")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
}
