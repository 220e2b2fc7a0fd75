import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { revisionDeployment } from "@/server/operations/revision-deployment";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json(
    { deployment: await revisionDeployment(platform, operator.id, params.revisionId) },
    // Read live: the deployment builds and its log grows.
    { headers: { "cache-control": "no-store" } },
  ),
);
