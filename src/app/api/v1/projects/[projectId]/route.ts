import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { startProjectDeletion } from "@/server/operations/delete-project";
import { getProjectOrThrow } from "@/server/projects/project-queries";

const params = z.object({ projectId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json(await getProjectOrThrow(db, operator.id, params.projectId)),
);

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) => {
  await startProjectDeletion(platform, operator.id, params.projectId);
  return new Response(null, { status: 204 });
});
