import { z } from "zod";
import { apiRoute, noBody } from "@/server/http/api-route";
import { getProjectOrThrow } from "@/server/projects/project-queries";
import { startProjectDeletion } from "@/server/projects/start-project";

const params = z.object({ projectId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json(await getProjectOrThrow(db, operator.id, params.projectId)),
);

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, db, params }) => {
  await startProjectDeletion(db, operator.id, params.projectId);
  return new Response(null, { status: 204 });
});
