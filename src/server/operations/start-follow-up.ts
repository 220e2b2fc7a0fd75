import "server-only";
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
  const revision = await createFollowUp(platform.db, platform.previewOrigins, userId, input);
  scheduleRevision(platform, revision.id);
  return revision;
}
