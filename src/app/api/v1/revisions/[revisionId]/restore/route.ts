import { z } from "zod";
import { apiRoute } from "@/server/entry/api-route";
import { startRestore } from "@/server/operations/start-restore";

const params = z.object({ revisionId: z.string().min(1).max(40) });
/** `taskId`: restore onto another task of the project (promote); default the checkpoint's own task. */
const body = z.object({ taskId: z.string().min(1).max(40).optional() }).strict();

export const POST = apiRoute({ params, body }, async ({ operator, platform, params, body }) =>
  Response.json(
    { revision: await startRestore(platform, operator.id, params.revisionId, body.taskId) },
    { status: 202 },
  ),
);
