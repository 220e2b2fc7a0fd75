import { z } from "zod";
import { newOpaqueToken, sha256Hex } from "@/server/crypto/tokens";
import type { Executor } from "@/server/db/connection";
import {
  findUserByApiTokenHash,
  insertApiToken,
  listApiTokensOfUser,
  revokeApiTokenOfUser,
  touchApiToken,
} from "@/server/db/queries/api-tokens";
import type { User } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { newId } from "@/server/ids";

export const API_TOKEN_PREFIX = "kiln_";
const TOUCH_EVERY_MS = 60_000;

export const apiTokenNameSchema = z.string().trim().min(1, "Give the token a name").max(100);

export type ApiTokenDto = {
  id: string;
  name: string;
  displayPrefix: string;
  createdAt: number;
  lastUsedAt: number | null;
};

/** Creates a token and returns its plaintext: the only time it exists outside the caller's hands. */
export async function createApiToken(
  db: Executor,
  userId: string,
  name: string,
  now = Date.now(),
): Promise<{ token: string; apiToken: ApiTokenDto }> {
  const token = newOpaqueToken(API_TOKEN_PREFIX);
  const row = {
    id: newId("apiToken"),
    user_id: userId,
    name: apiTokenNameSchema.parse(name),
    token_hash: sha256Hex(token),
    display_prefix: `${token.slice(0, API_TOKEN_PREFIX.length + 6)}…`,
    created_at: now,
  };
  await insertApiToken(db, row);
  return {
    token,
    apiToken: {
      id: row.id,
      name: row.name,
      displayPrefix: row.display_prefix,
      createdAt: now,
      lastUsedAt: null,
    },
  };
}

export async function authenticateApiToken(
  db: Executor,
  token: string,
  now = Date.now(),
): Promise<User | undefined> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return undefined;
  const found = await findUserByApiTokenHash(db, sha256Hex(token));
  if (!found) return undefined;
  if (found.lastUsedAt === null || now - found.lastUsedAt > TOUCH_EVERY_MS) {
    await touchApiToken(db, found.tokenId, now);
  }
  return found.user;
}

export async function listApiTokens(db: Executor, userId: string): Promise<ApiTokenDto[]> {
  const rows = await listApiTokensOfUser(db, userId);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    displayPrefix: row.display_prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }));
}

export async function revokeApiToken(db: Executor, userId: string, tokenId: string, now = Date.now()) {
  const revoked = await revokeApiTokenOfUser(db, userId, tokenId, now);
  if (!revoked) throw new AppError("not_found:api_token");
}
