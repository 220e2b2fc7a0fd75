import type { Executor } from "@/server/db/connection";
import { deleteAppEnvRowOfUser } from "@/server/db/queries/app-env";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { AppError } from "@/server/errors";

/** Deletes one of the operator's project's variables; what already runs keeps it until it is restarted. */
export async function deleteAppEnv(
  db: Executor,
  userId: string,
  projectId: string,
  name: string,
): Promise<void> {
  if (await deleteAppEnvRowOfUser(db, userId, projectId, name)) return;
  if (!(await findProjectOfUser(db, userId, projectId))) throw new AppError("not_found:project");
  throw new AppError("not_found:app_env");
}
