import { type AuditRequest, recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { revokeAllAuthSessionsOfUser } from "@/server/db/queries/auth-sessions";
import { findUserById } from "@/server/db/queries/users";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import type { OperatorLink } from "./admin-types";
import { issueOperatorLink } from "./operator-links";

/**
 * A new one-time link that sets the operator's password; their sessions end now. Their current password keeps
 * working until the link is used (then every session and token ends, as on any password change).
 */
export async function resetOperatorPassword(
  db: Executor,
  request: AuditRequest & { publicUrl: string },
  userId: string,
  now = Date.now(),
): Promise<OperatorLink> {
  return inTransaction(db, async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new AppError("not_found:operator");
    await revokeAllAuthSessionsOfUser(tx, user.id, now);
    const link = await issueOperatorLink(tx, {
      userId: user.id,
      createdBy: request.actorId,
      publicUrl: request.publicUrl,
      now,
    });
    await recordAudit(
      tx,
      {
        actorId: request.actorId,
        action: "operator.password_reset",
        target: { type: "user", id: user.id },
        detail: { email: user.email },
        ip: request.ip,
        userAgent: request.userAgent,
      },
      now,
    );
    return link;
  });
}
