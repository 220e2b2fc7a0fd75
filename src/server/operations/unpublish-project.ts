import "server-only";
import type { Platform } from "@/server/platform/platform";
import { unpublishProject } from "../publishing/unpublish-project";
import { publicationContext } from "./publish-project";

/** Stops serving the operator's project at its stable URL. */
export function unpublish(platform: Platform, userId: string, projectId: string): Promise<void> {
  return unpublishProject(publicationContext(platform), userId, projectId);
}
