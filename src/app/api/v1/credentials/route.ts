import { getCredentialContext } from "@/server/context";
import { listCredentialStatuses } from "@/server/credentials/credential-store";
import { apiRoute, noBody, noParams } from "@/server/http/api-route";

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, db }) =>
  Response.json({ credentials: await listCredentialStatuses(db, getCredentialContext(), operator.id) }),
);
