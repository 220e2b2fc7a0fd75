import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";
import { startProjectDeletion } from "@/server/operations/delete-project";
import { getProjectOrThrow } from "@/server/projects/project-queries";
import { updateProject, updateProjectInputSchema } from "@/server/projects/update-project";

const params = z.object({ projectId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json(await getProjectOrThrow(db, operator.id, params.projectId)),
);

/**
 * Renames the project and/or sets its run budget: `{ "name"?, "budgetTokens"?, "budgetUsd"? }` (budget: null = the
 * platform default, 0 = no limit). Answers as GET does.
 */
export const PATCH = apiRoute(
  { params, body: updateProjectInputSchema },
  async ({ operator, db, params, body, request }) => {
    await updateProject(db, operator.id, params.projectId, body, clientMeta(request.headers));
    return Response.json(await getProjectOrThrow(db, operator.id, params.projectId));
  },
);

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) => {
  await startProjectDeletion(platform, operator.id, params.projectId);
  return new Response(null, { status: 204 });
});
