import "server-only";
import type { Platform } from "@/server/platform/platform";
import { requestRedeploy } from "../revisions/redeploy-request";
import type { RevisionDto } from "../revisions/revision-types";
import { scheduleRedeploy } from "./schedule";

/** Refuses what cannot be redeployed, then deploys the checkpoint anew after the response. */
export async function startRedeploy(
  platform: Platform,
  userId: string,
  revisionId: string,
): Promise<RevisionDto> {
  const { revision, leaseOwner } = await requestRedeploy(
    platform.db,
    platform.previewOrigins,
    userId,
    revisionId,
    { defaultRetention: platform.branchRetention },
  );
  scheduleRedeploy(platform, revision.id, leaseOwner);
  return revision;
}
