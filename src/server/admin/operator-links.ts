import { recordAudit } from "@/server/audit/record-audit";
import { type SessionMeta, startAuthSession } from "@/server/auth/auth-sessions";
import { hashPassword, passwordSchema } from "@/server/auth/password";
import { newOpaqueToken, sha256Hex } from "@/server/crypto/tokens";
import type { Executor } from "@/server/db/connection";
import { revokeAllApiTokensOfUser } from "@/server/db/queries/api-tokens";
import { revokeAllAuthSessionsOfUser } from "@/server/db/queries/auth-sessions";
import {
  expireOpenInvitesOfUser,
  findUserByLiveInvite,
  insertOperatorInvite,
  markInviteUsed,
} from "@/server/db/queries/operator-invites";
import { updateUserPassword } from "@/server/db/queries/users";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { parseOrThrow } from "@/server/http/parse-input";
import { newId } from "@/server/ids";
import type { OperatorLink } from "./admin-types";

// One-time links that set an operator's password: an invite (a new operator) or a reset. No mail server: the
// admin copies the link to the operator. The link carries 256 random bits; only their SHA-256 is stored, it works
// once, until it expires, and a newer link for the same operator replaces it.

export const OPERATOR_LINK_TTL_MS = 7 * 24 * 60 * 60_000;
const MAX_TOKEN_LENGTH = 200;

export async function issueOperatorLink(
  db: Executor,
  options: { userId: string; createdBy: string | null; publicUrl: string; now?: number },
): Promise<OperatorLink> {
  const now = options.now ?? Date.now();
  const token = newOpaqueToken();
  const expiresAt = now + OPERATOR_LINK_TTL_MS;
  await inTransaction(db, async (tx) => {
    await expireOpenInvitesOfUser(tx, options.userId, now);
    await insertOperatorInvite(tx, {
      id: newId("operatorInvite"),
      user_id: options.userId,
      token_hash: sha256Hex(token),
      expires_at: expiresAt,
      created_by: options.createdBy,
      created_at: now,
    });
  });
  const path = `/invite/${token}`;
  return { path, url: `${options.publicUrl.replace(/\/+$/, "")}${path}`, expiresAt };
}

async function findLiveLink(db: Executor, token: string, now: number) {
  if (!token || token.length > MAX_TOKEN_LENGTH) return undefined;
  return findUserByLiveInvite(db, sha256Hex(token), now);
}

/** Whom a link is for, for the page that uses it; undefined when it no longer works. */
export async function findOperatorLinkEmail(
  db: Executor,
  token: string,
  now = Date.now(),
): Promise<string | undefined> {
  return (await findLiveLink(db, token, now))?.user.email;
}

/**
 * Sets the password a link was made for and signs the operator in. The link is spent in the same transaction as
 * the password is set, so two uses racing each other set it once. Every earlier session and token ends, as on
 * any password change.
 */
export async function redeemOperatorLink(
  db: Executor,
  input: { token: string; password: string; sessionTtlMs: number; meta: SessionMeta },
  now = Date.now(),
): Promise<{ email: string; token: string; expiresAt: number }> {
  const password = parseOrThrow(passwordSchema, input.password);
  const found = await findLiveLink(db, input.token, now);
  if (!found) throw new AppError("not_found:invite");
  const hash = await hashPassword(password);
  const { user } = found;
  return inTransaction(db, async (tx) => {
    if (!(await markInviteUsed(tx, found.inviteId, now))) throw new AppError("not_found:invite");
    await updateUserPassword(tx, user.id, hash, now);
    await revokeAllAuthSessionsOfUser(tx, user.id, now);
    await revokeAllApiTokensOfUser(tx, user.id, now);
    await recordAudit(
      tx,
      {
        actorId: user.id,
        action: "operator.password_set",
        target: { type: "user", id: user.id },
        detail: { email: user.email, via: "one-time link" },
        ...input.meta,
      },
      now,
    );
    const session = await startAuthSession(tx, user.id, input.meta, input.sessionTtlMs, now);
    return { email: user.email, ...session };
  });
}
