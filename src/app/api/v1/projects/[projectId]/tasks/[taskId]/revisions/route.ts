import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { startFollowUp } from "@/server/operations/start-follow-up";
import { followUpInputSchema } from "@/server/revisions/create-revision";
import { listTaskRevisions } from "@/server/revisions/revision-queries";

const params = z.object({ projectId: z.string().min(1).max(40), taskId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) =>
  Response.json({
    revisions: await listTaskRevisions(
      platform.db,
      platform.previewOrigins,
      operator.id,
      params.projectId,
      params.taskId,
    ),
  }),
);

export const POST = apiRoute(
  { params, body: followUpInputSchema },
  async ({ operator, platform, params, body }) =>
    Response.json(
      { revision: await startFollowUp(platform, operator.id, { ...params, ...body }) },
      { status: 202 },
    ),
);
