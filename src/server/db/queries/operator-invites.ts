import type { Executor } from "../connection";
import type { OperatorInvite, User } from "../schema";

export async function insertOperatorInvite(
  db: Executor,
  invite: Pick<OperatorInvite, "id" | "user_id" | "token_hash" | "expires_at" | "created_by" | "created_at">,
): Promise<void> {
  await db
    .insertInto("operator_invite")
    .values({ ...invite, used_at: null })
    .execute();
}

/** A link stops working once a newer one is issued for the same operator. */
export async function expireOpenInvitesOfUser(db: Executor, userId: string, now: number): Promise<void> {
  await db
    .updateTable("operator_invite")
    .set({ expires_at: now })
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .execute();
}

/** The operator an unused, unexpired link belongs to, unless they are disabled. */
export async function findUserByLiveInvite(
  db: Executor,
  tokenHash: string,
  now: number,
): Promise<{ user: User; inviteId: string } | undefined> {
  const row = await db
    .selectFrom("operator_invite")
    .innerJoin("user", "user.id", "operator_invite.user_id")
    .selectAll("user")
    .select("operator_invite.id as invite_id")
    .where("operator_invite.token_hash", "=", tokenHash)
    .where("operator_invite.used_at", "is", null)
    .where("operator_invite.expires_at", ">", now)
    .where("user.disabled_at", "is", null)
    .executeTakeFirst();
  if (!row) return undefined;
  const { invite_id, ...user } = row;
  return { user, inviteId: invite_id };
}

/** Marks a link used; false when another request used it first (a link sets a password once). */
export async function markInviteUsed(db: Executor, inviteId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("operator_invite")
    .set({ used_at: now })
    .where("id", "=", inviteId)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
