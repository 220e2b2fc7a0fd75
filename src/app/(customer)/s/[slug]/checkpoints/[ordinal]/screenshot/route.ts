import { errorResponse } from "@/server/entry/api-route";
import { pngResponse } from "@/server/http/png-response";
import { getPlatform } from "@/server/platform/get-platform";
import { parseCheckpointOrdinal } from "@/server/share-links/checkpoint-ordinal";
import { getSharedScreenshot } from "@/server/share-links/shared-screenshot";

// Public by design: a share link's checkpoint screenshot (the replay page, and its Open Graph image for link
// previews). An unknown or revoked link is a 404 that says nothing more.

export async function GET(
  _request: Request,
  context: { params: Promise<{ slug: string; ordinal: string }> },
) {
  try {
    const { slug, ordinal } = await context.params;
    const platform = await getPlatform();
    const png = await getSharedScreenshot(
      platform.db,
      slug,
      parseCheckpointOrdinal(ordinal),
      async (project) => (await platform.providersFor(project)).blob,
    );
    return pngResponse(png, { noindex: true });
  } catch (error) {
    return errorResponse(error);
  }
}
