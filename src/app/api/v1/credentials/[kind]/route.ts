import { z } from "zod";
import { deleteCredentialAudited, saveCredentialAudited } from "@/server/credentials/credential-changes";
import { credentialInputSchema, credentialKindSchema } from "@/server/credentials/kinds";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { clientMeta } from "@/server/entry/client-meta";
import { parseOrThrow } from "@/server/http/parse-input";

const params = z.object({ kind: credentialKindSchema });
const body = z.record(z.string(), z.unknown());

export const PUT = apiRoute({ params, body }, async ({ operator, db, platform, params, body, request }) => {
  // The kind comes from the path; the body holds that kind's fields.
  const input = parseOrThrow(credentialInputSchema, { ...body, kind: params.kind });
  const audit = { actorId: operator.id, ...clientMeta(request.headers) };
  const result = await saveCredentialAudited(db, platform.credentials, audit, input);
  return Response.json(result);
});

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, db, params, request }) => {
  await deleteCredentialAudited(db, { actorId: operator.id, ...clientMeta(request.headers) }, params.kind);
  return new Response(null, { status: 204 });
});
