import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { describeRevisionDeployment } from "@/server/revisions/revision-deployment";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, platform, params }) =>
  Response.json(
    {
      deployment: await describeRevisionDeployment(
        { db, key: platform.credentials.key, origins: platform.previewOrigins },
        operator.id,
        params.revisionId,
        async (project) => (await platform.providersFor(project)).deployer,
      ),
    },
    // Read live: the deployment builds and its log grows.
    { headers: { "cache-control": "no-store" } },
  ),
);
