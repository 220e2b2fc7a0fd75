import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";
import type { Credential } from "../schema";

export type CredentialWrite = Pick<
  Credential,
  "user_id" | "kind" | "ciphertext" | "hint" | "verify_status" | "verify_message" | "verified_at"
>;

export async function listCredentialsOfUser(db: Executor, userId: string): Promise<Credential[]> {
  return db.selectFrom("credential").selectAll().where("user_id", "=", userId).orderBy("kind").execute();
}

export async function findCredentialOfUser(
  db: Executor,
  userId: string,
  kind: string,
): Promise<Credential | undefined> {
  return db
    .selectFrom("credential")
    .selectAll()
    .where("user_id", "=", userId)
    .where("kind", "=", kind)
    .executeTakeFirst();
}

/** One credential per operator and kind: a save replaces the previous value. */
export async function upsertCredential(db: Executor, id: string, write: CredentialWrite, now: number) {
  const values = { id, ...write, created_at: now, updated_at: now };
  const changes = {
    ciphertext: write.ciphertext,
    hint: write.hint,
    verify_status: write.verify_status,
    verify_message: write.verify_message,
    verified_at: write.verified_at,
    updated_at: now,
  };
  if (isMysqlExecutor(db)) {
    await db.insertInto("credential").values(values).onDuplicateKeyUpdate(changes).execute();
    return;
  }
  await db
    .insertInto("credential")
    .values(values)
    .onConflict((oc) => oc.columns(["user_id", "kind"]).doUpdateSet(changes))
    .execute();
}

export async function deleteCredentialOfUser(db: Executor, userId: string, kind: string): Promise<boolean> {
  const result = await db
    .deleteFrom("credential")
    .where("user_id", "=", userId)
    .where("kind", "=", kind)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
