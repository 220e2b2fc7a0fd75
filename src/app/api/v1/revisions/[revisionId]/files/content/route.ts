import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";
import { checkpointPathSchema, getRevisionFileContent } from "@/server/revisions/revision-file-content";

const params = z.object({ revisionId: z.string().min(1).max(40) });
const query = z.object({ path: checkpointPathSchema });

/** `?path=src/app/page.tsx`: one file of the checkpoint's commit, highlighted. */
export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params, request }) => {
  const { path } = parseOrThrow(query, Object.fromEntries(new URL(request.url).searchParams));
  return Response.json(
    { file: await getRevisionFileContent(db, operator.id, params.revisionId, path, platform.providersFor) },
    // Private: one operator's code. A checkpoint's commit never changes, so the answer never goes stale.
    { headers: { "cache-control": "private, max-age=300" } },
  );
});
