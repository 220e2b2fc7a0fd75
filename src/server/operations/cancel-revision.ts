import "server-only";
import type { Executor } from "@/server/db/connection";
import { listRunningRevisionIdsOfUser } from "@/server/db/queries/revisions";
import { appendPlatformEvent } from "@/server/events/append";
import type { Platform } from "@/server/platform/platform";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { cancelWithReason } from "../pipeline/cancel-with-reason";
import { cancelRevision, type RecordCancel } from "../revisions/revision-queries";
import type { RevisionDto } from "../revisions/revision-types";
import { runningStatuses } from "../revisions/state-machine";
import { scheduleSandboxStop } from "./schedule";

/**
 * Cancels a running checkpoint and records it in its events in the same transaction, like every other transition:
 * the live view, the replay and a reloaded page all read the end from the event log (a terminal status also ends
 * the step that was running).
 */
export async function cancelRevisionAndRecord(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
  reason?: string,
): Promise<RevisionDto> {
  const record: RecordCancel = async (tx, revision, recordedReason) => {
    await appendPlatformEvent(tx, {
      projectId: revision.project_id,
      taskId: revision.task_id,
      revisionId: revision.id,
      body: { type: "revision.status", payload: { status: "cancelled", reason: recordedReason } },
    });
  };
  return cancelRevision(db, origins, userId, revisionId, record, reason);
}

/**
 * Cancels every running checkpoint of an operator with the reason they will read (an admin disabled them), and
 * returns the ones this call cancelled; stopping their sandboxes is the caller's. One that ends by itself meanwhile
 * is left as it ended.
 */
export async function cancelRunningRevisionsOfOperator(
  db: Executor,
  userId: string,
  reason: string,
): Promise<string[]> {
  const cancelled: string[] = [];
  for (const revisionId of await listRunningRevisionIdsOfUser(db, userId, runningStatuses)) {
    if (await cancelWithReason(db, revisionId, reason)) cancelled.push(revisionId);
  }
  return cancelled;
}

/** Cancels a running checkpoint now; its sandbox is stopped after the response. */
export async function cancelAndStop(
  platform: Platform,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const revision = await cancelRevisionAndRecord(platform.db, platform.previewOrigins, userId, revisionId);
  scheduleSandboxStop(platform, revision.id);
  return revision;
}
