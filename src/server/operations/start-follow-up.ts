import "server-only";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { assertNotPaused } from "@/server/governance/pause-state";
import type { Platform } from "@/server/platform/platform";
import { createFollowUp, type FollowUpInput } from "../revisions/create-revision";
import type { RevisionDto } from "../revisions/revision-types";
import { scheduleRevision } from "./schedule";

/** A follow-up prompt: a new checkpoint on the task, built after the response. */
export async function startFollowUp(
  platform: Platform,
  userId: string,
  input: { projectId: string; taskId: string } & FollowUpInput,
): Promise<RevisionDto> {
  assertNotPaused(await platform.pause.current());
  const revision = await createFollowUp(platform.db, platform.previewOrigins, userId, input, (tx, now) =>
    assertWithinQuota(tx, platform.quotas, userId, now),
  );
  scheduleRevision(platform, revision.id);
  return revision;
}
