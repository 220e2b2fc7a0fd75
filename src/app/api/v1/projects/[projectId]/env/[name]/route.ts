import { z } from "zod";
import { appEnvBodySchema, appEnvNameSchema } from "@/server/app-env/app-env-rules";
import { deleteAppEnv } from "@/server/app-env/delete-app-env";
import { putAppEnv } from "@/server/app-env/put-app-env";
import { apiRoute, noBody } from "@/server/entry/api-route";

const projectId = z.string().min(1).max(40);

/** Sets a variable: `{ "value": "…", "secret": true }`. Answers `{ variable }`, a secret's value left out. */
export const PUT = apiRoute(
  { params: z.object({ projectId, name: appEnvNameSchema }), body: appEnvBodySchema.strict() },
  async ({ operator, platform, params, body }) => {
    const variable = await putAppEnv(platform.db, platform.credentials.key, operator.id, params.projectId, {
      name: params.name,
      value: body.value,
      secret: body.secret,
    });
    return Response.json({ variable });
  },
);

export const DELETE = apiRoute(
  { params: z.object({ projectId, name: z.string().min(1).max(200) }), body: noBody },
  async ({ operator, db, params }) => {
    await deleteAppEnv(db, operator.id, params.projectId, params.name);
    return new Response(null, { status: 204 });
  },
);
