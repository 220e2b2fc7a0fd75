import "server-only";
import type { Platform } from "@/server/platform/platform";
import { describeRevisionDeployment } from "../revisions/revision-deployment";
import type { RevisionDeployment } from "../revisions/revision-deployment-types";

/** The operator's checkpoint's deployment as its project's Deployer reports it: state, URL, error and log. */
export function revisionDeployment(
  platform: Platform,
  userId: string,
  revisionId: string,
): Promise<RevisionDeployment> {
  return describeRevisionDeployment(
    { db: platform.db, key: platform.credentials.key, origins: platform.previewOrigins },
    userId,
    revisionId,
    async (project) => (await platform.providersFor(project)).deployer,
  );
}
