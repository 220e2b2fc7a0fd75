import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { describeRevisionDatabase } from "@/server/revisions/revision-database";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params }) =>
  Response.json(
    {
      database: await describeRevisionDatabase(
        db,
        platform.credentials.key,
        operator.id,
        params.revisionId,
        async (project) => (await platform.providersFor(project)).database,
      ),
    },
    // Read live: the app (or the operator) may migrate the branch at any moment.
    { headers: { "cache-control": "no-store" } },
  ),
);
