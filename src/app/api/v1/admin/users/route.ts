import { adminCreateOperatorSchema, createOperatorAsAdmin } from "@/server/admin/create-operator-as-admin";
import { listOperators } from "@/server/admin/list-operators";
import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";

export const GET = apiRoute({ params: noParams, body: noBody, admin: true }, async ({ db }) =>
  Response.json({ users: await listOperators(db) }),
);

export const POST = apiRoute(
  { params: noParams, body: adminCreateOperatorSchema, admin: true },
  async ({ operator, platform, body, request }) => {
    const meta = { actorId: operator.id, publicUrl: platform.publicUrl, ...clientMeta(request.headers) };
    const created = await createOperatorAsAdmin(platform.db, meta, body);
    // The invite link is in this answer only: Kiln keeps just its hash.
    return Response.json({ user: created.operator, invite: created.invite }, { status: 201 });
  },
);
