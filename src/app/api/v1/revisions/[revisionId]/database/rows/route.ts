import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";
import { readRevisionTableRows, tableRowsQuerySchema } from "@/server/revisions/revision-database";

const params = z.object({ revisionId: z.string().min(1).max(40) });

/** `?table=NAME&page=N`: one page (50 rows) of one table of the checkpoint's database branch. */
export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params, request }) => {
  const query = parseOrThrow(tableRowsQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
  return Response.json(
    {
      rows: await readRevisionTableRows(
        db,
        platform.credentials.key,
        operator.id,
        params.revisionId,
        query,
        async (project) => (await platform.providersFor(project)).database,
      ),
    },
    { headers: { "cache-control": "no-store" } },
  );
});
