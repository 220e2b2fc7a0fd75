import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { startWake } from "@/server/revisions/start-revision";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const POST = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json({ revision: await startWake(db, operator.id, params.revisionId) }, { status: 202 }),
);
