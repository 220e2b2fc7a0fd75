import { getDb } from "@/server/context";
import { errorResponse } from "@/server/http/api-route";
import { projectProviders } from "@/server/pipeline/platform";
import { parseCheckpointOrdinal } from "@/server/sessions/checkpoint-ordinal";
import { getSharedCheckpointDiff } from "@/server/sessions/shared-diff";

// Public by design: what a share link's checkpoint changed (the replay page's "Changes"). An unknown or revoked
// link is a 404 that says nothing more.

export async function GET(
  _request: Request,
  context: { params: Promise<{ slug: string; ordinal: string }> },
) {
  try {
    const { slug, ordinal } = await context.params;
    const diff = await getSharedCheckpointDiff(
      await getDb(),
      slug,
      parseCheckpointOrdinal(ordinal),
      projectProviders,
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
