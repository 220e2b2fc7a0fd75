import "server-only";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { assertNotPaused } from "@/server/governance/pause-state";
import type { Platform } from "@/server/platform/platform";
import { createRestore } from "../revisions/create-revision";
import type { RevisionDto } from "../revisions/revision-types";
import { scheduleRevision } from "./schedule";

/**
 * Restoring a checkpoint: a new checkpoint with its code and a branch of its data, built after the response. On
 * the checkpoint's own task, or on `ontoTaskId` (a promote onto another task of the project).
 */
export async function startRestore(
  platform: Platform,
  userId: string,
  revisionId: string,
  ontoTaskId?: string,
): Promise<RevisionDto> {
  assertNotPaused(await platform.pause.current());
  const revision = await createRestore(
    platform.db,
    platform.previewOrigins,
    userId,
    revisionId,
    { defaultRetention: platform.branchRetention },
    { ontoTaskId, guard: (tx, now) => assertWithinQuota(tx, platform.quotas, userId, now) },
  );
  scheduleRevision(platform, revision.id);
  return revision;
}
