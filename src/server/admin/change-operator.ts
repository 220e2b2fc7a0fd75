import { z } from "zod";
import { type AuditRequest, recordAudit } from "@/server/audit/record-audit";
import { operatorRoleSchema, toOperatorRole } from "@/server/auth/roles";
import type { Executor } from "@/server/db/connection";
import { revokeAllAuthSessionsOfUser } from "@/server/db/queries/auth-sessions";
import {
  countActiveAdmins,
  findUserById,
  setUserDisabledAt,
  updateUserRole,
} from "@/server/db/queries/users";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { operatorQuotasSchema } from "@/server/governance/set-operator-quotas";

export const operatorChangeSchema = z
  .object({
    disabled: z.boolean().optional(),
    role: operatorRoleSchema.optional(),
    // Applied by updateOperator through governance/set-operator-quotas.ts (null = no limit, "default").
    quotas: operatorQuotasSchema.optional(),
  })
  .refine(
    (change) => change.disabled !== undefined || change.role !== undefined || change.quotas !== undefined,
    "Give disabled, role or quotas",
  );

export type OperatorChange = z.output<typeof operatorChangeSchema>;

/**
 * Disables, enables, promotes or demotes an operator. Disabling ends their sessions now (their API tokens are
 * refused while they are disabled and work again when re-enabled); their projects stay. The last active admin can
 * be neither disabled nor demoted, so Kiln always keeps someone who can manage it. Returns whether this change is
 * the one that disabled them (the caller then stops their running work).
 */
export async function changeOperator(
  db: Executor,
  request: AuditRequest,
  userId: string,
  change: OperatorChange,
  now = Date.now(),
): Promise<{ disabledNow: boolean }> {
  return inTransaction(db, async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new AppError("not_found:operator");
    const wasAdmin = toOperatorRole(user.role) === "admin";
    const wasDisabled = user.disabled_at !== null;
    const losesAdmin = wasAdmin && !wasDisabled && (change.disabled === true || change.role === "operator");
    if (losesAdmin && (await countActiveAdmins(tx)) <= 1) {
      throw new AppError(
        "conflict:last_admin",
        user.id === request.actorId
          ? "You are the last active admin: make another operator an admin before you disable or demote yourself."
          : undefined,
      );
    }
    const audit = { actorId: request.actorId, ip: request.ip, userAgent: request.userAgent };
    const target = { type: "user", id: user.id };

    if (change.role !== undefined && change.role !== toOperatorRole(user.role)) {
      await updateUserRole(tx, user.id, change.role, now);
      await recordAudit(
        tx,
        {
          ...audit,
          action: "operator.role",
          target,
          detail: { email: user.email, from: user.role, to: change.role },
        },
        now,
      );
    }
    let disabledNow = false;
    if (change.disabled === true && !wasDisabled) {
      await setUserDisabledAt(tx, user.id, now, now);
      await revokeAllAuthSessionsOfUser(tx, user.id, now);
      await recordAudit(
        tx,
        { ...audit, action: "operator.disable", target, detail: { email: user.email } },
        now,
      );
      disabledNow = true;
    } else if (change.disabled === false && wasDisabled) {
      await setUserDisabledAt(tx, user.id, null, now);
      await recordAudit(
        tx,
        { ...audit, action: "operator.enable", target, detail: { email: user.email } },
        now,
      );
    }
    return { disabledNow };
  });
}
