import { type AuditRequest, recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { type ApiTokenDto, createApiToken, revokeApiToken } from "./api-tokens";

// API token changes as an operator makes them: the change, then its line in the audit log (the token's name and
// prefix, never the token).

export async function createApiTokenAudited(
  db: Executor,
  request: AuditRequest & { actorId: string },
  name: string,
): Promise<{ token: string; apiToken: ApiTokenDto }> {
  const created = await createApiToken(db, request.actorId, name);
  await recordAudit(db, {
    ...request,
    action: "api_token.create",
    target: { type: "api_token", id: created.apiToken.id },
    detail: { name: created.apiToken.name, prefix: created.apiToken.displayPrefix },
  });
  return created;
}

export async function revokeApiTokenAudited(
  db: Executor,
  request: AuditRequest & { actorId: string },
  tokenId: string,
): Promise<void> {
  await revokeApiToken(db, request.actorId, tokenId);
  await recordAudit(db, {
    ...request,
    action: "api_token.revoke",
    target: { type: "api_token", id: tokenId },
  });
}
