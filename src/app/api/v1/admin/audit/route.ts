import { auditPageSchema, listAuditEvents } from "@/server/audit/list-audit-events";
import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";

export const GET = apiRoute({ params: noParams, body: noBody, admin: true }, async ({ db, request }) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await listAuditEvents(db, parseOrThrow(auditPageSchema, query)));
});
