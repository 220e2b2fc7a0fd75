import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { startProjectDeletion } from "@/server/operations/delete-project";
import { getProjectOrThrow } from "@/server/projects/project-queries";
import { renameProject, renameProjectInputSchema } from "@/server/projects/rename-project";

const params = z.object({ projectId: z.string().min(1).max(40) });

export const GET = apiRoute({ params, body: noBody }, async ({ operator, db, params }) =>
  Response.json(await getProjectOrThrow(db, operator.id, params.projectId)),
);

/** Renames the project: `{ "name": "…" }`. Answers as GET does, with the new name. */
export const PATCH = apiRoute(
  { params, body: renameProjectInputSchema.strict() },
  async ({ operator, db, params, body }) => {
    await renameProject(db, operator.id, params.projectId, body.name);
    return Response.json(await getProjectOrThrow(db, operator.id, params.projectId));
  },
);

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) => {
  await startProjectDeletion(platform, operator.id, params.projectId);
  return new Response(null, { status: 204 });
});
