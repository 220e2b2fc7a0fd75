import type { Executor } from "../connection";
import type { NewUser, User } from "../schema";

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  return db.selectFrom("user").selectAll().where("email", "=", normalizeEmail(email)).executeTakeFirst();
}

export async function findUserById(db: Executor, id: string): Promise<User | undefined> {
  return db.selectFrom("user").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("user")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(db: Executor, user: NewUser): Promise<void> {
  await db.insertInto("user").values(user).execute();
}

export async function updateUserPassword(db: Executor, userId: string, passwordHash: string, now: number) {
  await db
    .updateTable("user")
    .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
    .where("id", "=", userId)
    .execute();
}

export async function updateUserRole(db: Executor, userId: string, role: string, now: number): Promise<void> {
  await db.updateTable("user").set({ role, updated_at: now }).where("id", "=", userId).execute();
}
