import type { Executor } from "@/server/db/connection";

// Each app server says it is alive every few seconds (a `job_lease` row named `server:<id>`, expiring soon after).
// A sandbox that dies with its server (a local one) is known to be gone once that row has expired: its revision
// is then carried on elsewhere within seconds, instead of after minutes of silence.

const PREFIX = "server:";

export async function announceServer(
  db: Executor,
  serverId: string,
  ttlMs: number,
  now = Date.now(),
): Promise<void> {
  const name = `${PREFIX}${serverId}`;
  const updated = await db
    .updateTable("job_lease")
    .set({ expires_at: now + ttlMs })
    .where("name", "=", name)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 1) return;
  await db
    .insertInto("job_lease")
    .values({ name, owner: serverId, expires_at: now + ttlMs })
    .execute();
}

/** Forgets servers that stopped announcing themselves long ago (their rows would only grow the table). */
export async function forgetGoneServers(db: Executor, olderThan: number): Promise<void> {
  await db
    .deleteFrom("job_lease")
    .where("name", "like", `${PREFIX}%`)
    .where("expires_at", "<", olderThan)
    .execute();
}

/** Whether the server is alive: it announced itself and that announcement has not expired. */
export async function isServerAlive(db: Executor, serverId: string, now = Date.now()): Promise<boolean> {
  const row = await db
    .selectFrom("job_lease")
    .select("expires_at")
    .where("name", "=", `${PREFIX}${serverId}`)
    .executeTakeFirst();
  return row !== undefined && row.expires_at >= now;
}
