import type { Executor } from "../connection";
import type { Session } from "../schema";

export async function insertShareSession(db: Executor, session: Session): Promise<void> {
  await db.insertInto("session").values(session).execute();
}

export async function findShareSessionOfTask(db: Executor, taskId: string): Promise<Session | undefined> {
  return db.selectFrom("session").selectAll().where("task_id", "=", taskId).executeTakeFirst();
}
