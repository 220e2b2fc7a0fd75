import { z } from "zod";
import { recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";
import { revokeAllApiTokensOfUser } from "@/server/db/queries/api-tokens";
import { revokeAllAuthSessionsOfUser } from "@/server/db/queries/auth-sessions";
import {
  countUsers,
  findUserByEmail,
  insertUser,
  normalizeEmail,
  updateUserPassword,
  updateUserRole,
} from "@/server/db/queries/users";
import { AppError } from "@/server/errors";
import { newId } from "@/server/ids";
import { hashPassword, passwordSchema } from "./password";
import type { OperatorRole } from "./roles";

export const operatorInputSchema = z.object({
  email: z.email("Enter a valid email address").max(254),
  password: passwordSchema,
  name: z.string().trim().max(120).optional(),
});

export type OperatorInput = z.input<typeof operatorInputSchema>;

/** Creates an operator. With no role given, the very first operator is an admin and every later one is not. */
export async function createOperator(
  db: Executor,
  input: OperatorInput,
  options: { bcryptCost?: number; now?: number; role?: OperatorRole } = {},
): Promise<{ id: string; email: string; role: OperatorRole }> {
  const parsed = operatorInputSchema.parse(input);
  const now = options.now ?? Date.now();
  const email = normalizeEmail(parsed.email);
  const id = newId("user");
  const passwordHash = await hashPassword(parsed.password, options.bcryptCost);
  const role = options.role ?? ((await countUsers(db)) === 0 ? "admin" : "operator");
  try {
    await insertUser(db, {
      id,
      email,
      name: parsed.name || null,
      password_hash: passwordHash,
      password_changed_at: now,
      role,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict:email", undefined, { cause: error });
    throw error;
  }
  return { id, email, role };
}

/** KILN_ADMIN_EMAIL names an admin: at boot its operator, if it exists, is made one. Returns whether it changed. */
export async function ensureAdminByEmail(db: Executor, email: string, now = Date.now()): Promise<boolean> {
  const user = await findUserByEmail(db, email);
  if (!user || user.role === "admin") return false;
  await updateUserRole(db, user.id, "admin", now);
  return true;
}

/**
 * Sets a new password and signs the operator out everywhere: every session and every API token ends, since a
 * password is changed when it may have leaked, and whoever held it could have minted tokens with it.
 */
export async function setOperatorPassword(db: Executor, email: string, password: string, now = Date.now()) {
  const user = await findUserByEmail(db, email);
  if (!user) throw new AppError("not_found:user");
  const hash = await hashPassword(passwordSchema.parse(password));
  const change = async (trx: Executor) => {
    await updateUserPassword(trx, user.id, hash, now);
    await revokeAllAuthSessionsOfUser(trx, user.id, now);
    await revokeAllApiTokensOfUser(trx, user.id, now);
    // Run on the server (npm run user:password): nobody signed in, no client address.
    await recordAudit(
      trx,
      {
        actorId: null,
        action: "password.change",
        target: { type: "user", id: user.id },
        detail: { email: user.email, via: "command line" },
      },
      now,
    );
  };
  await (db.isTransaction ? change(db) : db.transaction().execute(change));
}
