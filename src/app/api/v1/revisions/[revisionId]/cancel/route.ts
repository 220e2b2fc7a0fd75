import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { cancelAndStop } from "@/server/operations/cancel-revision";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const POST = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json({ revision: await cancelAndStop(platform, operator.id, params.revisionId) }),
);
