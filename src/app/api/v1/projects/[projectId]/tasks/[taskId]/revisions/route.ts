import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { followUpInputSchema } from "@/server/revisions/create-revision";
import { listTaskRevisions } from "@/server/revisions/revision-queries";
import { startFollowUp } from "@/server/revisions/start-revision";

const params = z.object({ projectId: z.string().min(1).max(40), taskId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json({ revisions: await listTaskRevisions(db, operator.id, params.projectId, params.taskId) }),
);

export const POST = apiRoute({ params, body: followUpInputSchema }, async ({ operator, db, params, body }) =>
  Response.json(
    { revision: await startFollowUp(db, operator.id, { ...params, prompt: body.prompt }) },
    { status: 202 },
  ),
);
