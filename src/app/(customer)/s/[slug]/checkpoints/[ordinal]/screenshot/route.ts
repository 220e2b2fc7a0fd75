import { getDb } from "@/server/context";
import { errorResponse } from "@/server/http/api-route";
import { pngResponse } from "@/server/http/png-response";
import { projectProviders } from "@/server/pipeline/platform";
import { parseCheckpointOrdinal } from "@/server/sessions/checkpoint-ordinal";
import { getSharedScreenshot } from "@/server/sessions/shared-screenshot";

// Public by design: a share link's checkpoint screenshot (the replay page, and its Open Graph image for link
// previews). An unknown or revoked link is a 404 that says nothing more.

export async function GET(
  _request: Request,
  context: { params: Promise<{ slug: string; ordinal: string }> },
) {
  try {
    const { slug, ordinal } = await context.params;
    const png = await getSharedScreenshot(
      await getDb(),
      slug,
      parseCheckpointOrdinal(ordinal),
      async (project) => (await projectProviders(project)).blob,
    );
    return pngResponse(png, { noindex: true });
  } catch (error) {
    return errorResponse(error);
  }
}
