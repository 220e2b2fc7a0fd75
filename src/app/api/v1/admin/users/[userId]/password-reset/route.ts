import { z } from "zod";
import { resetOperatorPassword } from "@/server/admin/reset-operator-password";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";

const params = z.object({ userId: z.string().min(1).max(40) });

export const POST = apiRoute(
  { params, body: noBody, admin: true },
  async ({ operator, platform, params, request }) => {
    const meta = { actorId: operator.id, publicUrl: platform.publicUrl, ...clientMeta(request.headers) };
    // The link is in this answer only: Kiln keeps just its hash.
    return Response.json(
      { link: await resetOperatorPassword(platform.db, meta, params.userId) },
      { status: 201 },
    );
  },
);
