import { apiRoute, noBody, noParams } from "@/server/entry/api-route";

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator }) =>
  Response.json({
    user: { id: operator.id, email: operator.email, name: operator.name, role: operator.role },
  }),
);
