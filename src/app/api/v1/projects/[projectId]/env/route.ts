import { z } from "zod";
import { listAppEnv } from "@/server/app-env/list-app-env";
import { apiRoute, noBody } from "@/server/entry/api-route";

const params = z.object({ projectId: z.string().min(1).max(40) });

/** The project's app environment variables: names, flags, and the values of those that are not secret. */
export const GET = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json(
    { env: await listAppEnv(platform.db, platform.credentials.key, operator.id, params.projectId) },
    { headers: { "cache-control": "no-store" } },
  ),
);
