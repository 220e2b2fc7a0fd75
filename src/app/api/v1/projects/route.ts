import { env } from "@/env";
import { apiRoute, noBody, noParams } from "@/server/http/api-route";
import { createProjectInputSchema } from "@/server/projects/create-project";
import { listProjects } from "@/server/projects/project-queries";
import { startProject } from "@/server/projects/start-project";

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, db }) =>
  Response.json({ projects: await listProjects(db, operator.id) }),
);

export const POST = apiRoute(
  { params: noParams, body: createProjectInputSchema },
  async ({ operator, db, body }) => {
    const created = await startProject(db, operator.id, body);
    const url = `${env.KILN_PUBLIC_URL}/s/${created.session.slug}`;
    return Response.json({ ...created, session: { ...created.session, url } }, { status: 202 });
  },
);
