import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { projectProviders } from "@/server/pipeline/platform";
import { getRevisionScreenshot } from "@/server/revisions/revision-screenshot-file";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) => {
  const png = await getRevisionScreenshot(
    db,
    operator.id,
    params.revisionId,
    async (project) => (await projectProviders(project)).blob,
  );
  return new Response(new Uint8Array(png), {
    headers: {
      "content-type": "image/png",
      "content-length": String(png.byteLength),
      // Private: it is one operator's app; a retake after a restore is rare enough that five minutes is fine.
      "cache-control": "private, max-age=300",
      "x-content-type-options": "nosniff",
    },
  });
});
