import "server-only";
import type { OperatorSummary } from "@/server/admin/admin-types";
import { changeOperator, type OperatorChange } from "@/server/admin/change-operator";
import { getOperatorSummary } from "@/server/admin/list-operators";
import type { AuditRequest } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { setOperatorQuotas } from "@/server/governance/set-operator-quotas";
import type { Platform } from "@/server/platform/platform";
import { cancelRunningRevisionsOfOperator } from "./cancel-revision";
import { scheduleSandboxStop } from "./schedule";

export const DISABLED_BY_ADMIN_REASON = "Your account was disabled by an administrator.";

/**
 * An admin's change to an operator (role, disabled, quotas). Disabling also cancels every checkpoint they have running,
 * with a reason they will read, and stops those sandboxes after the response; their projects stay.
 */
export async function updateOperator(
  platform: Platform,
  request: AuditRequest,
  userId: string,
  change: OperatorChange,
): Promise<OperatorSummary> {
  const { db } = platform;
  const { disabledNow } = await changeOperator(db, request, userId, change);
  if (change.quotas) await setOperatorQuotas(db, userId, change.quotas, request);
  if (disabledNow) {
    const cancelled = await cancelRunningRevisionsOfOperator(db, userId, DISABLED_BY_ADMIN_REASON);
    for (const revisionId of cancelled) scheduleSandboxStop(platform, revisionId);
  }
  const operator = await getOperatorSummary(db, userId);
  if (!operator) throw new AppError("not_found:operator");
  return operator;
}
