import { z } from "zod";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { publish } from "@/server/operations/publish-project";
import { unpublish } from "@/server/operations/unpublish-project";
import { publishInputSchema } from "@/server/publishing/publication-types";

const params = z.object({ projectId: z.string().min(1).max(40) });

/**
 * Serves a finished checkpoint of the project's main task at its stable URL: `{ "revisionId"? }` (default: the newest
 * finished one). Answers `{ published: {url, revisionId, ordinal, publishedAt} }`.
 */
export const POST = apiRoute(
  { params, body: publishInputSchema },
  async ({ operator, platform, params, body }) =>
    Response.json({ published: await publish(platform, operator.id, params.projectId, body) }),
);

/** Stops serving the project at its stable URL; idempotent. */
export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, platform, params }) => {
  await unpublish(platform, operator.id, params.projectId);
  return new Response(null, { status: 204 });
});
