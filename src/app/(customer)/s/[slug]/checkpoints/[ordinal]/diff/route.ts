import { errorResponse } from "@/server/entry/api-route";
import { getPlatform } from "@/server/platform/get-platform";
import { parseCheckpointOrdinal } from "@/server/share-links/checkpoint-ordinal";
import { getSharedCheckpointDiff } from "@/server/share-links/shared-diff";

// Public by design: what a share link's checkpoint changed (the replay page's "Changes"). An unknown or revoked
// link is a 404 that says nothing more.

export async function GET(
  _request: Request,
  context: { params: Promise<{ slug: string; ordinal: string }> },
) {
  try {
    const { slug, ordinal } = await context.params;
    const platform = await getPlatform();
    const diff = await getSharedCheckpointDiff(
      platform.db,
      platform,
      slug,
      parseCheckpointOrdinal(ordinal),
      platform.providersFor,
    );
    // Browsers only, briefly: a revoked link must stop serving it. A checkpoint's commits never change.
    return Response.json(
      { diff },
      { headers: { "cache-control": "private, max-age=300", "x-robots-tag": "noindex" } },
    );
  } catch (error) {
    return errorResponse(error);
  }
}
