import { z } from "zod";
import { type AuditRequest, recordAudit } from "@/server/audit/record-audit";
import { createOperator } from "@/server/auth/operators";
import { passwordSchema } from "@/server/auth/password";
import { operatorRoleSchema } from "@/server/auth/roles";
import { newOpaqueToken } from "@/server/crypto/tokens";
import type { Executor } from "@/server/db/connection";
import { inTransaction } from "@/server/db/transaction";
import type { OperatorLink, OperatorSummary } from "./admin-types";
import { getOperatorSummary } from "./list-operators";
import { issueOperatorLink } from "./operator-links";

export const adminCreateOperatorSchema = z.object({
  email: z.email("Enter a valid email address").max(254),
  name: z.string().trim().max(120).optional(),
  role: operatorRoleSchema.default("operator"),
  /** Without one, the answer carries a one-time link that lets the new operator choose it. */
  password: passwordSchema.optional(),
});

export type AdminCreateOperatorInput = z.output<typeof adminCreateOperatorSchema>;

/**
 * An admin adds an operator: with a password they can sign in at once; without one they get an invite link (the
 * account exists with an unusable random password until the link sets theirs).
 */
export async function createOperatorAsAdmin(
  db: Executor,
  request: AuditRequest & { publicUrl: string },
  input: AdminCreateOperatorInput,
  now = Date.now(),
): Promise<{ operator: OperatorSummary; invite: OperatorLink | null }> {
  const { id, invite } = await inTransaction(db, async (tx) => {
    const created = await createOperator(
      tx,
      { email: input.email, name: input.name, password: input.password ?? newOpaqueToken() },
      { role: input.role, now },
    );
    const link = input.password
      ? null
      : await issueOperatorLink(tx, {
          userId: created.id,
          createdBy: request.actorId,
          publicUrl: request.publicUrl,
          now,
        });
    await recordAudit(
      tx,
      {
        actorId: request.actorId,
        action: link ? "operator.invite" : "operator.create",
        target: { type: "user", id: created.id },
        detail: { email: created.email, role: created.role },
        ip: request.ip,
        userAgent: request.userAgent,
      },
      now,
    );
    return { id: created.id, invite: link };
  });
  const operator = await getOperatorSummary(db, id);
  if (!operator) throw new Error(`operator ${id} vanished right after it was created`);
  return { operator, invite };
}
