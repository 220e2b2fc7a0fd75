import "server-only";
import type { Platform } from "@/server/platform/platform";
import type { PublishedDto, PublishInput } from "../publishing/publication-types";
import { type PublicationContext, publishProject } from "../publishing/publish-project";

export function publicationContext(platform: Platform): PublicationContext {
  return {
    db: platform.db,
    origins: platform.previewOrigins,
    deployerFor: async (project) => (await platform.providersFor(project)).deployer,
  };
}

/** Serves a finished checkpoint of the operator's project at its stable URL. */
export function publish(
  platform: Platform,
  userId: string,
  projectId: string,
  input: PublishInput,
): Promise<PublishedDto> {
  return publishProject(publicationContext(platform), userId, projectId, input);
}
