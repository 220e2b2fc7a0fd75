import type { Executor } from "@/server/db/connection";
import { listAppEnvRows } from "@/server/db/queries/app-env";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { AppError } from "@/server/errors";
import { decryptAppEnvValue } from "./app-env-cipher";
import type { AppEnvVar } from "./app-env-types";

/** The operator's project's variables by name; a secret's value is never decrypted here, let alone returned. */
export async function listAppEnv(
  db: Executor,
  key: Buffer,
  userId: string,
  projectId: string,
): Promise<AppEnvVar[]> {
  if (!(await findProjectOfUser(db, userId, projectId))) throw new AppError("not_found:project");
  const rows = await listAppEnvRows(db, projectId);
  return rows.map((row) => ({
    name: row.name,
    secret: row.is_secret === 1,
    value: row.is_secret === 1 ? null : decryptAppEnvValue(key, row),
    updatedAt: row.updated_at,
  }));
}
