import "server-only";
import type { Platform } from "@/server/platform/platform";
import type { RevisionDto } from "../revisions/revision-types";
import { requestWake } from "../revisions/wake-revision-request";
import { scheduleWake } from "./schedule";

/** Refuses what cannot be woken, then wakes the checkpoint's preview after the response. */
export async function startWake(
  platform: Platform,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const revision = await requestWake(platform.db, platform.previewOrigins, userId, revisionId, {
    defaultRetention: platform.branchRetention,
  });
  scheduleWake(platform, revision.id);
  return revision;
}
