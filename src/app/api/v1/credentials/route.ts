import { listCredentialStatuses } from "@/server/credentials/credential-store";
import { apiRoute, noBody, noParams } from "@/server/entry/api-route";

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, db, platform }) =>
  Response.json({ credentials: await listCredentialStatuses(db, platform.credentials, operator.id) }),
);
