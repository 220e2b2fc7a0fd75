import { z } from "zod";
import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";
import { createProjectInputSchema } from "@/server/operations/create-project";
import { startProject } from "@/server/operations/start-project";
import { listProjects } from "@/server/projects/project-queries";
import { shareUrl } from "@/server/share-links/share-link";

const listQuery = z.object({
  q: z.string().max(120, "Keep the search to 120 characters or fewer").optional(),
});

/** The operator's projects; `?q=` keeps those whose name contains it (any case). */
export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, db, request }) => {
  const { searchParams } = new URL(request.url);
  const { q } = parseOrThrow(listQuery, { q: searchParams.get("q") ?? undefined });
  return Response.json({ projects: await listProjects(db, operator.id, { nameContains: q }) });
});

export const POST = apiRoute(
  { params: noParams, body: createProjectInputSchema },
  async ({ operator, platform, body }) => {
    const created = await startProject(platform, operator.id, body);
    const url = shareUrl(created.session.slug, platform.publicUrl);
    return Response.json({ ...created, session: { ...created.session, url } }, { status: 202 });
  },
);
