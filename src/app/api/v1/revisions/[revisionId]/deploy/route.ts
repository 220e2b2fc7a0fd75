import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { startRedeploy } from "@/server/operations/start-redeploy";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const POST = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json({ revision: await startRedeploy(platform, operator.id, params.revisionId) }, { status: 202 }),
);
