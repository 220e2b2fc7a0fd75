import { z } from "zod";
import type { Executor } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";
import { revokeAllApiTokensOfUser } from "@/server/db/queries/api-tokens";
import { revokeAllAuthSessionsOfUser } from "@/server/db/queries/auth-sessions";
import { findUserByEmail, insertUser, normalizeEmail, updateUserPassword } from "@/server/db/queries/users";
import { AppError } from "@/server/errors";
import { newId } from "@/server/ids";
import { hashPassword, passwordSchema } from "./password";

export const operatorInputSchema = z.object({
  email: z.email("Enter a valid email address").max(254),
  password: passwordSchema,
  name: z.string().trim().max(120).optional(),
});

export type OperatorInput = z.input<typeof operatorInputSchema>;

export async function createOperator(
  db: Executor,
  input: OperatorInput,
  options: { bcryptCost?: number; now?: number } = {},
): Promise<{ id: string; email: string }> {
  const parsed = operatorInputSchema.parse(input);
  const now = options.now ?? Date.now();
  const email = normalizeEmail(parsed.email);
  const id = newId("user");
  const passwordHash = await hashPassword(parsed.password, options.bcryptCost);
  try {
    await insertUser(db, {
      id,
      email,
      name: parsed.name || null,
      password_hash: passwordHash,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict:email", undefined, { cause: error });
    throw error;
  }
  return { id, email };
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
  };
  await (db.isTransaction ? change(db) : db.transaction().execute(change));
}
