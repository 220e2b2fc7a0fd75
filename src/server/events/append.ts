import type { Database, Executor } from "@/server/db/connection";
import {
  insertEvent,
  insertEventsIgnoringDuplicates,
  listRevisionsOfSandbox,
  lockEventWriters,
  maxSeqOfRevision,
  type NewEventRow,
  type SandboxRow,
  touchRevisionHeartbeat,
  touchSandboxLastEvent,
} from "@/server/db/queries/events";
import { AppError } from "@/server/errors";
import { randomBase32 } from "@/server/ids";
import { notifyTask } from "./bus";
import { createRedactor, type Redactor, redactJson } from "./redact";
import { type EventBatch, type EventBody, eventBodySchema, type StoredEvent, type WireEvent } from "./schema";

// The only two ways events enter the `event` table. Both wake this process's live streams after their write.

/** Platform events carry no known secrets of their own; token shapes are still caught (a vendor error, say). */
const platformRedactor = createRedactor([]);

export type AppendPlatformEventInput = {
  projectId: string;
  taskId: string;
  revisionId: string;
  body: EventBody;
  now?: number;
};

/** The seq the next event of a revision gets: one past the highest stored (runner events included). */
export async function nextRevisionSeq(db: Executor, revisionId: string): Promise<number> {
  return ((await maxSeqOfRevision(db, revisionId)) ?? -1) + 1;
}

/**
 * Appends one platform event (`plt_…` id, no sandbox). Its seq is max(seq)+1 of the revision, read and written
 * under the revision's row lock, so it lands after everything the revision already holds and two platform writers
 * never pick the same number. Called inside a caller's transaction it joins it; live streams are then woken
 * before the commit and pick the event up on their next poll (about a second) instead of at once.
 */
export async function appendPlatformEvent(
  db: Executor,
  input: AppendPlatformEventInput,
): Promise<StoredEvent> {
  const body = eventBodySchema.parse(input.body);
  const payload = redactJson(body.payload, platformRedactor);
  const now = input.now ?? Date.now();
  const write = async (tx: Executor): Promise<StoredEvent> => {
    await lockEventWriters(tx, input.revisionId, input.taskId);
    const seq = await nextRevisionSeq(tx, input.revisionId);
    const eventId = `plt_${randomBase32(15)}`;
    const cursor = await insertEvent(tx, {
      project_id: input.projectId,
      task_id: input.taskId,
      revision_id: input.revisionId,
      sandbox_id: null,
      event_id: eventId,
      seq,
      type: body.type,
      payload: JSON.stringify(payload),
      created_at: now,
    });
    // The parsed body and its redacted payload have the same shape: redaction only rewrites strings.
    return {
      ...body,
      payload,
      id: eventId,
      seq,
      at: now,
      cursor,
      revisionId: input.revisionId,
    } as StoredEvent;
  };
  const stored = db.isTransaction ? await write(db) : await db.transaction().execute(write);
  notifyTask(input.taskId);
  return stored;
}

export type IngestRunnerBatchInput = {
  sandbox: Pick<SandboxRow, "id" | "project_id">;
  batch: EventBatch;
  redactor: Redactor;
  now?: number;
};

export type IngestResult = {
  /** Events stored by this call. */
  accepted: number;
  /** Events already stored (a retried or replayed batch) or repeated within the batch: skipped. */
  duplicates: number;
  revisionId: string;
  taskId: string;
  /** The batch's events as stored (redacted, first of each id), for whoever advances the revision. */
  events: WireEvent[];
};

/** The revision a runner batch belongs to: the one whose id is the run id, else the sandbox's newest. */
async function revisionOfBatch(db: Executor, sandbox: IngestRunnerBatchInput["sandbox"], runId: string) {
  const revisions = await listRevisionsOfSandbox(db, sandbox);
  const revision = revisions.find((r) => r.id === runId) ?? revisions[0];
  if (!revision) throw new AppError("not_found:route", "This sandbox has no revision to report for.");
  return revision;
}

function uniqueById(events: WireEvent[]): WireEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (seen.has(event.id)) return false;
    seen.add(event.id);
    return true;
  });
}

/**
 * Stores a runner's batch with one multi-row insert. Idempotent: an event whose (sandbox, id) is already stored is
 * skipped and counted as a duplicate, so a retried or replayed batch is harmless. Events keep the runner's seq
 * (a revision's replay order) and its timestamp; payload strings are redacted first. Bumps the revision's
 * heartbeat and the sandbox's last-event time in the same transaction.
 */
export async function ingestRunnerBatch(db: Database, input: IngestRunnerBatchInput): Promise<IngestResult> {
  const { sandbox, batch, redactor } = input;
  const now = input.now ?? Date.now();
  const revision = await revisionOfBatch(db, sandbox, batch.runId);
  // Redacting a payload keeps its shape (only strings change), so each event stays a valid WireEvent.
  const events = uniqueById(batch.events).map(
    (event) => ({ ...event, payload: redactJson(event.payload, redactor) }) as WireEvent,
  );
  const rows: NewEventRow[] = events.map((event) => ({
    project_id: sandbox.project_id,
    task_id: revision.task_id,
    revision_id: revision.id,
    sandbox_id: sandbox.id,
    event_id: event.id,
    seq: event.seq,
    type: event.type,
    payload: JSON.stringify(event.payload),
    created_at: event.at,
  }));
  const accepted = await db.transaction().execute(async (tx) => {
    await lockEventWriters(tx, revision.id, revision.task_id);
    await touchRevisionHeartbeat(tx, revision.id, now);
    await touchSandboxLastEvent(tx, sandbox.id, now);
    return insertEventsIgnoringDuplicates(tx, rows);
  });
  if (accepted > 0) notifyTask(revision.task_id);
  return {
    accepted,
    duplicates: batch.events.length - accepted,
    revisionId: revision.id,
    taskId: revision.task_id,
    events,
  };
}
