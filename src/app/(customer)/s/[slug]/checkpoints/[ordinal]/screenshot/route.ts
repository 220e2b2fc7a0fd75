import { getDb } from "@/server/context";
import { AppError } from "@/server/errors";
import { errorResponse } from "@/server/http/api-route";
import { projectProviders } from "@/server/pipeline/platform";
import { getSharedScreenshot } from "@/server/sessions/shared-screenshot";

// Public by design: a share link's checkpoint screenshot (the replay page, and its Open Graph image for link
// previews). An unknown or revoked link is a 404 that says nothing more.

const ORDINAL = /^[1-9][0-9]{0,8}$/;

export async function GET(
  _request: Request,
  context: { params: Promise<{ slug: string; ordinal: string }> },
) {
  try {
    const { slug, ordinal } = await context.params;
    if (!ORDINAL.test(ordinal)) throw new AppError("not_found:route");
    const png = await getSharedScreenshot(
      await getDb(),
      slug,
      Number(ordinal),
      async (project) => (await projectProviders(project)).blob,
    );
    return new Response(new Uint8Array(png), {
      headers: {
        "content-type": "image/png",
        "content-length": String(png.byteLength),
        // Browsers only (no shared caches), briefly: a revoked link must stop serving it.
        "cache-control": "private, max-age=300",
        "x-content-type-options": "nosniff",
        "x-robots-tag": "noindex",
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
