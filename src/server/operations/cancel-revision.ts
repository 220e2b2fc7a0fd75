import "server-only";
import type { Platform } from "@/server/platform/platform";
import { cancelRevision } from "../revisions/revision-queries";
import type { RevisionDto } from "../revisions/revision-types";
import { scheduleSandboxStop } from "./schedule";

/** Cancels a running checkpoint now; its sandbox is stopped after the response. */
export async function cancelAndStop(
  platform: Platform,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const revision = await cancelRevision(platform.db, platform.previewOrigins, userId, revisionId);
  scheduleSandboxStop(platform, revision.id);
  return revision;
}
