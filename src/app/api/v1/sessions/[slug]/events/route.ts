import { getDb } from "@/server/context";
import { openSharedEventStream } from "@/server/events/share-stream";
import { errorResponse } from "@/server/http/api-route";

// Public by design: a live share link's events over SSE, read-only (docs/pipeline.md "Events").

export async function GET(request: Request, context: { params: Promise<{ slug: string }> }) {
  try {
    const { slug } = await context.params;
    return await openSharedEventStream(await getDb(), {
      slug,
      lastEventId: request.headers.get("last-event-id"),
      after: new URL(request.url).searchParams.get("after"),
      signal: request.signal,
    });
  } catch (error) {
    return errorResponse(error);
  }
}
