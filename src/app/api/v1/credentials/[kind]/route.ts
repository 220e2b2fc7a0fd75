import { z } from "zod";
import { deleteCredential, saveCredential } from "@/server/credentials/credential-store";
import { credentialInputSchema, credentialKindSchema } from "@/server/credentials/kinds";
import { apiRoute, noBody } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";

const params = z.object({ kind: credentialKindSchema });
const body = z.record(z.string(), z.unknown());

export const PUT = apiRoute({ params, body }, async ({ operator, db, platform, params, body }) => {
  // The kind comes from the path; the body holds that kind's fields.
  const input = parseOrThrow(credentialInputSchema, { ...body, kind: params.kind });
  const result = await saveCredential(db, platform.credentials, operator.id, input);
  return Response.json(result);
});

export const DELETE = apiRoute({ params, body: noBody }, async ({ operator, db, params }) => {
  await deleteCredential(db, operator.id, params.kind);
  return new Response(null, { status: 204 });
});
