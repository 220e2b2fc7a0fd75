import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { getRevisionFiles } from "@/server/revisions/revision-files";

const params = z.object({ revisionId: z.string().min(1).max(40) });

/** The files of the checkpoint's commit (the Code tab's tree). */
export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params }) =>
  Response.json(
    { files: await getRevisionFiles(db, operator.id, params.revisionId, platform.providersFor) },
    // Private: one operator's code. A checkpoint's commit never changes, so the answer never goes stale.
    { headers: { "cache-control": "private, max-age=300" } },
  ),
);
