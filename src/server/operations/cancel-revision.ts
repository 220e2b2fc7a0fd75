import "server-only";
import type { Executor } from "@/server/db/connection";
import { appendPlatformEvent } from "@/server/events/append";
import type { Platform } from "@/server/platform/platform";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { cancelRevision } from "../revisions/revision-queries";
import type { RevisionDto } from "../revisions/revision-types";
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
): Promise<RevisionDto> {
  return cancelRevision(db, origins, userId, revisionId, async (tx, revision, reason) => {
    await appendPlatformEvent(tx, {
      projectId: revision.project_id,
      taskId: revision.task_id,
      revisionId: revision.id,
      body: { type: "revision.status", payload: { status: "cancelled", reason } },
    });
  });
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
