import type { Database, Executor } from "@/server/db/connection";
import {
  closingEventTypes,
  findRunClosure,
  insertEvent,
  insertEventsIgnoringDuplicates,
  listRevisionsOfSandbox,
  listStoredEventIds,
  lockEventWriters,
  maxSeqOfRevision,
  type NewEventRow,
  type SandboxRow,
  touchRevisionHeartbeat,
  touchSandboxLastEvent,
} from "@/server/db/queries/events";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { randomBase32 } from "@/server/ids";
import { isTerminal } from "@/server/revisions/state-machine";
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
  const stored = await inTransaction(db, write);
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

const isClosing = (event: WireEvent): boolean =>
  (closingEventTypes as readonly string[]).includes(event.type);

const runClosed = (why: string) => new AppError("conflict:run_closed", `This run has ended (${why}).`);

/**
 * A runner ends its run with exactly one `runner.finished` or `runner.failed`, the last event it sends. Nothing may
 * follow it in the same batch: whatever does came from something other than an honest runner.
 */
function assertNothingAfterClose(events: WireEvent[]): void {
  const closes = events.filter(isClosing).map((event) => event.seq);
  if (closes.length === 0) return;
  const closedAt = Math.min(...closes);
  if (closes.length > 1 || events.some((event) => event.seq > closedAt)) {
    throw runClosed("the batch has events after the run's last one");
  }
}

type Closure = "open" | "closing" | "ended";

/**
 * Stores a runner's batch with one multi-row insert. Idempotent: an event whose (sandbox, id) is already stored is
 * skipped and counted as a duplicate, so a retried or replayed batch is harmless. Events keep the runner's seq
 * (a revision's replay order) and its timestamp; payload strings are redacted first. Bumps the revision's
 * heartbeat and the sandbox's last-event time in the same transaction.
 *
 * The webhook closes with its run: once the revision is terminal or its runner's closing event is stored, a batch
 * with any new event is refused (`conflict:run_closed`) and changes nothing. A retry of a batch stored before
 * that still gets its usual answer (all duplicates); its events are handed on only while the revision has not
 * ended, so a late retry can finish what a crash interrupted but can never act on an ended revision.
 */
export async function ingestRunnerBatch(db: Database, input: IngestRunnerBatchInput): Promise<IngestResult> {
  const { sandbox, batch, redactor } = input;
  const now = input.now ?? Date.now();
  const revision = await revisionOfBatch(db, sandbox, batch.runId);
  // Redacting a payload keeps its shape (only strings change), so each event stays a valid WireEvent.
  const events = uniqueById(batch.events).map(
    (event) => ({ ...event, payload: redactJson(event.payload, redactor) }) as WireEvent,
  );
  assertNothingAfterClose(events);
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
  const { accepted, closure } = await inTransaction(db, async (tx) => {
    await lockEventWriters(tx, revision.id, revision.task_id);
    // Read under the writers' lock, so a batch racing the closing one sees it.
    const state = await findRunClosure(tx, revision.id);
    const closure: Closure =
      !state || isTerminal(state.status) ? "ended" : state.closingEventStored ? "closing" : "open";
    if (closure !== "open") {
      const stored = await listStoredEventIds(
        tx,
        sandbox.id,
        events.map((event) => event.id),
      );
      if (events.some((event) => !stored.has(event.id))) {
        throw runClosed(
          closure === "ended" ? `the revision is ${state?.status ?? "gone"}` : "it reported its end",
        );
      }
      return { accepted: 0, closure };
    }
    await touchRevisionHeartbeat(tx, revision.id, now);
    await touchSandboxLastEvent(tx, sandbox.id, now);
    return { accepted: await insertEventsIgnoringDuplicates(tx, rows), closure };
  });
  if (accepted > 0) notifyTask(revision.task_id);
  return {
    accepted,
    duplicates: batch.events.length - accepted,
    revisionId: revision.id,
    taskId: revision.task_id,
    events: closure === "ended" ? [] : events,
  };
}
