import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";
import { toPauseDto } from "@/server/governance/pause-dto";
import { pauseInputSchema, pausePlatform } from "@/server/operations/pause-platform";
import { resumePlatform } from "@/server/operations/resume-platform";

/** Whether agent work is paused, why, since when and by whom. Admins only (others: 404). */
export const GET = apiRoute({ params: noParams, body: noBody, admin: true }, async ({ platform }) =>
  Response.json(toPauseDto(await platform.pause.fresh())),
);

/** The kill switch: `{ "reason": "…" }`. Cancels every running revision; new work gets 503 `paused`. */
export const POST = apiRoute(
  { params: noParams, body: pauseInputSchema, admin: true },
  async ({ operator, platform, body, request }) => {
    const result = await pausePlatform(platform, {
      reason: body.reason,
      by: operator.id,
      from: clientMeta(request.headers),
    });
    return Response.json({ ...toPauseDto(result.pause), cancelled: result.cancelled });
  },
);

/** Resumes agent work. */
export const DELETE = apiRoute(
  { params: noParams, body: noBody, admin: true },
  async ({ operator, platform, request }) => {
    await resumePlatform(platform, { by: operator.id, from: clientMeta(request.headers) });
    return Response.json(toPauseDto(undefined));
  },
);
