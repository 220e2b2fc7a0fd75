import type { Insertable, Selectable } from "kysely";
import type { Executor } from "../connection";
import { isMysqlExecutor } from "../dialect";
import type { EventTable, SandboxTable } from "../schema";

export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
export type SandboxRow = Selectable<SandboxTable>;

/** A sandbox with the operator who owns its project (whose credentials the webhook's redactor must know). */
export type SandboxWithOwner = SandboxRow & { owner_id: string };

export async function findSandboxWithOwner(
  db: Executor,
  sandboxId: string,
): Promise<SandboxWithOwner | undefined> {
  return db
    .selectFrom("sandbox")
    .innerJoin("project", "project.id", "sandbox.project_id")
    .selectAll("sandbox")
    .select("project.user_id as owner_id")
    .where("sandbox.id", "=", sandboxId)
    .executeTakeFirst();
}

/** The revisions running (or having run) in a sandbox, newest first. */
export async function listRevisionsOfSandbox(
  db: Executor,
  sandbox: { id: string; project_id: string },
): Promise<Array<{ id: string; task_id: string }>> {
  return db
    .selectFrom("revision")
    .select(["id", "task_id"])
    .where("sandbox_id", "=", sandbox.id)
    .where("project_id", "=", sandbox.project_id)
    .orderBy("ordinal", "desc")
    .limit(20)
    .execute();
}

/** The runner events that end a run: after one is stored, the run's webhook takes no new event. */
export const closingEventTypes = ["runner.finished", "runner.failed"] as const;

/** Whether a revision's run is over for its sandbox: the revision ended, or its runner already reported its end. */
export async function findRunClosure(
  db: Executor,
  revisionId: string,
): Promise<{ status: string; closingEventStored: boolean } | undefined> {
  const revision = await db
    .selectFrom("revision")
    .select("status")
    .where("id", "=", revisionId)
    .executeTakeFirst();
  if (!revision) return undefined;
  const closing = await db
    .selectFrom("event")
    .select("id")
    .where("revision_id", "=", revisionId)
    .where("type", "in", closingEventTypes)
    .limit(1)
    .executeTakeFirst();
  return { status: revision.status, closingEventStored: closing !== undefined };
}

/** Which of `eventIds` a sandbox has already stored. */
export async function listStoredEventIds(
  db: Executor,
  sandboxId: string,
  eventIds: string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db
    .selectFrom("event")
    .select("event_id")
    .where("sandbox_id", "=", sandboxId)
    .where("event_id", "in", eventIds)
    .execute();
  return new Set(rows.map((row) => row.event_id));
}

/**
 * Serializes event writers of one task (MySQL; embedded SQLite has a single writer anyway). Cursor ids come from
 * an auto-increment that is assigned at insert, not at commit: without this, a reader could see id 11 committed,
 * move its cursor past 10, and miss 10 when it commits a moment later. Lock order: revision row, then task row.
 */
export async function lockEventWriters(db: Executor, revisionId: string, taskId: string): Promise<void> {
  if (!isMysqlExecutor(db)) return;
  await db.selectFrom("revision").select("id").where("id", "=", revisionId).forUpdate().execute();
  await db.selectFrom("task").select("id").where("id", "=", taskId).forUpdate().execute();
}

export async function maxSeqOfRevision(db: Executor, revisionId: string): Promise<number | null> {
  const row = await db
    .selectFrom("event")
    .select((eb) => eb.fn.max("seq").as("max_seq"))
    .where("revision_id", "=", revisionId)
    .executeTakeFirst();
  return row?.max_seq === null || row?.max_seq === undefined ? null : Number(row.max_seq);
}

/** Inserts one event and returns its cursor id. */
export async function insertEvent(db: Executor, event: NewEventRow): Promise<number> {
  const result = await db.insertInto("event").values(event).executeTakeFirstOrThrow();
  if (result.insertId === undefined) throw new Error("The database did not report the new event's id");
  return Number(result.insertId);
}

/**
 * One multi-row insert; rows whose (sandbox_id, event_id) already exists are skipped, not errors. Returns how many
 * rows were actually inserted (the rest were duplicates).
 */
export async function insertEventsIgnoringDuplicates(db: Executor, events: NewEventRow[]): Promise<number> {
  if (events.length === 0) return 0;
  const insert = db.insertInto("event").values(events);
  const result = isMysqlExecutor(db)
    ? await insert.ignore().executeTakeFirstOrThrow()
    : await insert
        .onConflict((oc) => oc.columns(["sandbox_id", "event_id"]).doNothing())
        .executeTakeFirstOrThrow();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export async function touchRevisionHeartbeat(db: Executor, revisionId: string, now: number): Promise<void> {
  await db.updateTable("revision").set({ heartbeat_at: now }).where("id", "=", revisionId).execute();
}

export async function touchSandboxLastEvent(db: Executor, sandboxId: string, now: number): Promise<void> {
  await db.updateTable("sandbox").set({ last_event_at: now }).where("id", "=", sandboxId).execute();
}

/** A task's events after a cursor, in cursor order (the live stream's order). */
export async function listEventsOfTaskAfter(
  db: Executor,
  taskId: string,
  afterCursor: number,
  limit: number,
): Promise<EventRow[]> {
  return db
    .selectFrom("event")
    .selectAll()
    .where("task_id", "=", taskId)
    .where("id", ">", afterCursor)
    .orderBy("id", "asc")
    .limit(limit)
    .execute();
}

/**
 * A revision's events in sequence order (the replay order). Ties (a platform event takes the next seq while the
 * runner may send the same number) fall back to the cursor, i.e. arrival order.
 */
export async function listEventsOfRevision(
  db: Executor,
  revisionId: string,
  limit = 5_000,
): Promise<EventRow[]> {
  return db
    .selectFrom("event")
    .selectAll()
    .where("revision_id", "=", revisionId)
    .orderBy("seq", "asc")
    .orderBy("id", "asc")
    .limit(limit)
    .execute();
}

/** The runner events whose effect the pipeline applies, in the order they were sent. */
export const appliedRunnerEventTypes = [
  "runner.step",
  "runner.committed",
  "runner.preview",
  "runner.finished",
  "runner.failed",
] as const;

/** A revision's runner events after `afterSeq` (null: from the start) that move the pipeline, by seq. */
export async function listUnappliedRunnerEvents(
  db: Executor,
  revisionId: string,
  afterSeq: number | null,
): Promise<EventRow[]> {
  return db
    .selectFrom("event")
    .selectAll()
    .where("revision_id", "=", revisionId)
    .where("sandbox_id", "is not", null)
    .where("type", "in", [...appliedRunnerEventTypes])
    .where("seq", ">", afterSeq ?? -1)
    .orderBy("seq")
    .limit(500)
    .execute();
}
