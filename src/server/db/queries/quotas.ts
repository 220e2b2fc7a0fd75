import { sql } from "kysely";
import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";
import type { OperatorQuotaTable } from "../schema";
import { endedRevisionStatuses } from "./projects";

// What the quota checks read (governance/operator-quotas.ts). Usage is the operator's projects' usage rows: the
// agent's calls through the gateway and the planner's calls alike.

export type OperatorQuotaRow = Omit<OperatorQuotaTable, "user_id" | "updated_at">;

const num = (value: number | string | bigint | null): number => (value === null ? 0 : Number(value));
const numOrNull = (value: number | string | bigint | null): number | null =>
  value === null ? null : Number(value);

export async function findOperatorQuota(db: Executor, userId: string): Promise<OperatorQuotaRow | undefined> {
  const row = await db
    .selectFrom("operator_quota")
    .select(["builds_per_day", "concurrent_runs", "tokens_per_month", "usd_per_month_micros"])
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    builds_per_day: numOrNull(row.builds_per_day),
    concurrent_runs: numOrNull(row.concurrent_runs),
    tokens_per_month: numOrNull(row.tokens_per_month),
    usd_per_month_micros: numOrNull(row.usd_per_month_micros),
  };
}

export async function upsertOperatorQuota(
  db: Executor,
  userId: string,
  values: OperatorQuotaRow,
  now: number,
): Promise<void> {
  const changes = { ...values, updated_at: now };
  if (isMysqlExecutor(db)) {
    await db
      .insertInto("operator_quota")
      .values({ user_id: userId, ...changes })
      .onDuplicateKeyUpdate(changes)
      .execute();
    return;
  }
  await db
    .insertInto("operator_quota")
    .values({ user_id: userId, ...changes })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(changes))
    .execute();
}

/**
 * Takes the operator's row lock until the transaction ends (a write that changes nothing still locks the row on
 * InnoDB and takes the writer's lock on SQLite), so two quota checks of one operator run one after the other and
 * the second sees the first's new revision.
 */
export async function lockOperatorRow(db: Executor, userId: string): Promise<void> {
  await db
    .updateTable("user")
    .set({ updated_at: sql<number>`updated_at` })
    .where("id", "=", userId)
    .execute();
}

/** Revisions (builds: prompts, follow-ups, restores) of the operator's projects created since `since`. */
export async function countBuildsSince(db: Executor, userId: string, since: number): Promise<number> {
  const row = await db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("project.user_id", "=", userId)
    .where("revision.created_at", ">=", since)
    .executeTakeFirstOrThrow();
  return num(row.n);
}

/** The operator's revisions still running (queued included). */
export async function countRunningRevisions(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("project.user_id", "=", userId)
    .where("revision.status", "not in", endedRevisionStatuses)
    .executeTakeFirstOrThrow();
  return num(row.n);
}

/**
 * The operator's model spend since `since`: tokens as budgets count them (input less cache reads, plus output;
 * gateway/budget.ts) and money.
 */
export async function sumUsageSince(
  db: Executor,
  userId: string,
  since: number,
): Promise<{ tokens: number; usdMicros: number }> {
  const row = await db
    .selectFrom("usage")
    .innerJoin("project", "project.id", "usage.project_id")
    .select((eb) => [
      eb.fn.sum<number | string | null>("usage.input_tokens").as("input"),
      eb.fn.sum<number | string | null>("usage.cached_tokens").as("cached"),
      eb.fn.sum<number | string | null>("usage.output_tokens").as("output"),
      eb.fn.sum<number | string | null>("usage.cost_usd_micros").as("cost"),
    ])
    .where("project.user_id", "=", userId)
    .where("usage.created_at", ">=", since)
    .executeTakeFirstOrThrow();
  return {
    tokens: Math.max(0, num(row.input) - num(row.cached)) + num(row.output),
    usdMicros: num(row.cost),
  };
}

export type PauseRow = { reason: string; pausedBy: string | null; pausedAt: number };

const PAUSE_ROW_ID = "platform";

export async function findPlatformPause(db: Executor): Promise<PauseRow | undefined> {
  const row = await db
    .selectFrom("platform_pause")
    .select(["reason", "paused_by", "paused_at"])
    .where("id", "=", PAUSE_ROW_ID)
    .executeTakeFirst();
  if (!row) return undefined;
  return { reason: row.reason, pausedBy: row.paused_by, pausedAt: Number(row.paused_at) };
}

/** Stores the pause; pausing again while paused replaces the reason. */
export async function savePlatformPause(db: Executor, pause: PauseRow): Promise<void> {
  const values = {
    id: PAUSE_ROW_ID,
    reason: pause.reason,
    paused_by: pause.pausedBy,
    paused_at: pause.pausedAt,
  };
  const changes = { reason: pause.reason, paused_by: pause.pausedBy, paused_at: pause.pausedAt };
  if (isMysqlExecutor(db)) {
    await db.insertInto("platform_pause").values(values).onDuplicateKeyUpdate(changes).execute();
    return;
  }
  await db
    .insertInto("platform_pause")
    .values(values)
    .onConflict((oc) => oc.column("id").doUpdateSet(changes))
    .execute();
}

/** Returns whether a pause was lifted. */
export async function deletePlatformPause(db: Executor): Promise<boolean> {
  const result = await db.deleteFrom("platform_pause").where("id", "=", PAUSE_ROW_ID).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Every revision still running, of every operator (the kill switch cancels them all). */
export async function listAllRunningRevisionIds(db: Executor): Promise<string[]> {
  const rows = await db
    .selectFrom("revision")
    .select("id")
    .where("status", "not in", endedRevisionStatuses)
    .execute();
  return rows.map((row) => row.id);
}

/** Every operator (id and email), for the admins' usage table. */
export async function listOperatorIds(db: Executor): Promise<{ id: string; email: string }[]> {
  return db.selectFrom("user").select(["id", "email"]).orderBy("email").execute();
}
