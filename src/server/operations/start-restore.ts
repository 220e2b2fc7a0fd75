import "server-only";
import type { Platform } from "@/server/platform/platform";
import { createRestore } from "../revisions/create-revision";
import type { RevisionDto } from "../revisions/revision-types";
import { admitAgentWork } from "./admit-agent-work";
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
  const guard = await admitAgentWork(platform, userId);
  const revision = await createRestore(
    platform.db,
    platform.previewOrigins,
    userId,
    revisionId,
    { defaultRetention: platform.branchRetention },
    { ontoTaskId, guard },
  );
  scheduleRevision(platform, revision.id);
  return revision;
}
