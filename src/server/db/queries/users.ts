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

export async function setUserDisabledAt(
  db: Executor,
  userId: string,
  disabledAt: number | null,
  now: number,
): Promise<void> {
  await db
    .updateTable("user")
    .set({ disabled_at: disabledAt, updated_at: now })
    .where("id", "=", userId)
    .execute();
}

/** Admins who can still sign in: the last of them may not be disabled or demoted. */
export async function countActiveAdmins(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("user")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("role", "=", "admin")
    .where("disabled_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export type UserWithActivity = User & { project_count: number; last_activity_at: number | null };

/**
 * Every operator with how many projects they own and when they were last seen: the latest of a session's last
 * use, a token's last use and a project's last activity.
 */
export async function listUsersWithActivity(db: Executor): Promise<UserWithActivity[]> {
  const rows = await db
    .selectFrom("user")
    .selectAll("user")
    .select((eb) => [
      eb
        .selectFrom("project")
        .whereRef("project.user_id", "=", "user.id")
        .select((p) => p.fn.countAll<number>().as("n"))
        .as("project_count"),
      eb
        .selectFrom("project")
        .whereRef("project.user_id", "=", "user.id")
        .select((p) => p.fn.max("project.last_activity_at").as("m"))
        .as("project_activity_at"),
      eb
        .selectFrom("auth_session")
        .whereRef("auth_session.user_id", "=", "user.id")
        .select((s) => s.fn.max("auth_session.last_seen_at").as("m"))
        .as("session_activity_at"),
      eb
        .selectFrom("api_token")
        .whereRef("api_token.user_id", "=", "user.id")
        .select((t) => t.fn.max("api_token.last_used_at").as("m"))
        .as("token_activity_at"),
    ])
    .orderBy("user.created_at", "asc")
    .orderBy("user.id", "asc")
    .execute();
  return rows.map(
    ({ project_count, project_activity_at, session_activity_at, token_activity_at, ...user }) => {
      const seen = [project_activity_at, session_activity_at, token_activity_at]
        .filter((value) => value !== null && value !== undefined)
        .map(Number);
      return {
        ...user,
        project_count: Number(project_count ?? 0),
        last_activity_at: seen.length > 0 ? Math.max(...seen) : null,
      };
    },
  );
}
