import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { startRestore } from "@/server/operations/start-restore";

const params = z.object({ revisionId: z.string().min(1).max(40) });

export const POST = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json({ revision: await startRestore(platform, operator.id, params.revisionId) }, { status: 202 }),
);
