import { type AuditRequest, recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import {
  type CredentialContext,
  deleteCredential,
  type SaveCredentialResult,
  saveCredential,
} from "./credential-store";
import type { CredentialInput, CredentialKind } from "./kinds";

// A credential change as an operator makes it (Settings, the API): the change, then its line in the audit log,
// which names the kind and the outcome of the vendor's check, never the secret.

export async function saveCredentialAudited(
  db: Executor,
  ctx: CredentialContext,
  request: AuditRequest & { actorId: string },
  input: CredentialInput,
): Promise<SaveCredentialResult> {
  const result = await saveCredential(db, ctx, request.actorId, input);
  await recordAudit(db, {
    ...request,
    action: "credential.put",
    target: { type: "credential", id: result.kind },
    detail: { kind: result.kind, verification: result.verification.status },
  });
  return result;
}

export async function deleteCredentialAudited(
  db: Executor,
  request: AuditRequest & { actorId: string },
  kind: CredentialKind,
): Promise<void> {
  await deleteCredential(db, request.actorId, kind);
  await recordAudit(db, {
    ...request,
    action: "credential.delete",
    target: { type: "credential", id: kind },
    detail: { kind },
  });
}
