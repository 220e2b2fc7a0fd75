import { z } from "zod";
import { operatorChangeSchema } from "@/server/admin/change-operator";
import { apiRoute } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";
import { updateOperator } from "@/server/operations/update-operator";

const params = z.object({ userId: z.string().min(1).max(40) });

export const PATCH = apiRoute(
  { params, body: operatorChangeSchema, admin: true },
  async ({ operator, platform, params, body, request }) => {
    const meta = { actorId: operator.id, ...clientMeta(request.headers) };
    return Response.json({ user: await updateOperator(platform, meta, params.userId, body) });
  },
);
