import "server-only";
import type { Platform } from "@/server/platform/platform";
import { createFollowUp, type FollowUpInput } from "../revisions/create-revision";
import type { RevisionDto } from "../revisions/revision-types";
import { admitAgentWork } from "./admit-agent-work";
import { scheduleRevision } from "./schedule";

/** A follow-up prompt: a new checkpoint on the task, built after the response. */
export async function startFollowUp(
  platform: Platform,
  userId: string,
  input: { projectId: string; taskId: string } & FollowUpInput,
): Promise<RevisionDto> {
  const guard = await admitAgentWork(platform, userId);
  const revision = await createFollowUp(platform.db, platform.previewOrigins, userId, input, guard);
  scheduleRevision(platform, revision.id);
  return revision;
}
