import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { getRevisionOrThrow } from "@/server/revisions/revision-queries";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json({ revision: await getRevisionOrThrow(db, operator.id, params.revisionId) }),
);
