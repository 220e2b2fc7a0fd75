import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { pngResponse } from "@/server/http/png-response";
import { getRevisionScreenshot } from "@/server/revisions/revision-screenshot-file";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params }) => {
  const png = await getRevisionScreenshot(
    db,
    operator.id,
    params.revisionId,
    async (project) => (await platform.providersFor(project)).blob,
  );
  return pngResponse(png);
});
