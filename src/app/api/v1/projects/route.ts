import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { createProjectInputSchema } from "@/server/operations/create-project";
import { startProject } from "@/server/operations/start-project";
import { listProjects } from "@/server/projects/project-queries";
import { shareUrl } from "@/server/share-links/share-link";

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, db }) =>
  Response.json({ projects: await listProjects(db, operator.id) }),
);

export const POST = apiRoute(
  { params: noParams, body: createProjectInputSchema },
  async ({ operator, platform, body }) => {
    const created = await startProject(platform, operator.id, body);
    const url = shareUrl(created.session.slug, platform.publicUrl);
    return Response.json({ ...created, session: { ...created.session, url } }, { status: 202 });
  },
);
