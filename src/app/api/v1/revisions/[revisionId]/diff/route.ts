import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { getHighlightedRevisionDiff } from "@/server/revisions/highlighted-revision-diff";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params }) =>
  Response.json(
    { diff: await getHighlightedRevisionDiff(db, operator.id, params.revisionId, platform.providersFor) },
    // Private: one operator's code. A checkpoint's commits never change, so the answer never goes stale.
    { headers: { "cache-control": "private, max-age=300" } },
  ),
);
