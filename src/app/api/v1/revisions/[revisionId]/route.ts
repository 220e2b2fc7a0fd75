import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { getRevisionOrThrow } from "@/server/revisions/revision-queries";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json({
    revision: await getRevisionOrThrow(platform.db, platform.previewOrigins, operator.id, params.revisionId),
  }),
);
