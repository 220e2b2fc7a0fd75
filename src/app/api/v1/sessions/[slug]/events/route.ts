import { errorResponse } from "@/server/entry/api-route";
import { getPlatform } from "@/server/platform/get-platform";
import { openSharedEventStream } from "@/server/share-links/share-stream";

// Public by design: a live share link's events over SSE, read-only (docs/pipeline.md "Events").

export async function GET(request: Request, context: { params: Promise<{ slug: string }> }) {
  try {
    const { slug } = await context.params;
    const platform = await getPlatform();
    return await openSharedEventStream(platform.db, platform, {
      slug,
      lastEventId: request.headers.get("last-event-id"),
      after: new URL(request.url).searchParams.get("after"),
      signal: request.signal,
    });
  } catch (error) {
    return errorResponse(error);
  }
}
