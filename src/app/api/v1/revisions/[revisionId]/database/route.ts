import { z } from "zod";
import { getCredentialContext } from "@/server/context";
import { apiRoute, noBody } from "@/server/http/api-route";
import { describeRevisionDatabase } from "@/server/revisions/revision-database";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json(
    {
      database: await describeRevisionDatabase(
        db,
        getCredentialContext().key,
        operator.id,
        params.revisionId,
      ),
    },
    // Read live: the app (or the operator) may migrate the branch at any moment.
    { headers: { "cache-control": "no-store" } },
  ),
);
