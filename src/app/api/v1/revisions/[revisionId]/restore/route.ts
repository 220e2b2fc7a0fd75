import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { startRestore } from "@/server/revisions/start-revision";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const POST = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json({ revision: await startRestore(db, operator.id, params.revisionId) }, { status: 202 }),
);
