import { decryptSecret, encryptSecret } from "@/server/crypto/encryption";
import type { AppEnvRow } from "@/server/db/schema";

// Bound to the project and the name: a ciphertext copied to another variable or project does not decrypt.
const contextOf = (projectId: string, name: string) => `app_env:${projectId}:${name}`;

export function encryptAppEnvValue(key: Buffer, projectId: string, name: string, value: string): string {
  return encryptSecret(key, value, contextOf(projectId, name));
}

export function decryptAppEnvValue(
  key: Buffer,
  row: Pick<AppEnvRow, "project_id" | "name" | "value_ciphertext">,
) {
  return decryptSecret(key, row.value_ciphertext, contextOf(row.project_id, row.name));
}
