import type { Executor } from "@/server/db/connection";
import { listAppEnvRows, lockProjectOfUser, upsertAppEnvRow } from "@/server/db/queries/app-env";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { decryptAppEnvValue, encryptAppEnvValue } from "./app-env-cipher";
import {
  type AppEnvInput,
  isPublicToBrowsers,
  MAX_APP_ENV_TOTAL_BYTES,
  MAX_APP_ENV_VARS,
  utf8Bytes,
} from "./app-env-rules";
import type { AppEnvVar } from "./app-env-types";

/**
 * Sets one of the operator's project's app environment variables (parsed with `appEnvInputSchema`). Takes effect
 * for what starts next: the next run's preview, migrations and build, a woken preview, a deploy or redeploy.
 */
export async function putAppEnv(
  db: Executor,
  key: Buffer,
  userId: string,
  projectId: string,
  input: AppEnvInput,
): Promise<AppEnvVar> {
  return inTransaction(db, async (tx) => {
    if (!(await lockProjectOfUser(tx, userId, projectId))) throw new AppError("not_found:project");
    const rows = await listAppEnvRows(tx, projectId);
    const existing = rows.find((row) => row.name === input.name);
    const others = rows.filter((row) => row.name !== input.name);
    if (others.length >= MAX_APP_ENV_VARS) {
      throw new AppError(
        "conflict:app_env_limit",
        `A project has at most ${MAX_APP_ENV_VARS} variables: delete one first.`,
      );
    }
    const total =
      utf8Bytes(input.value) + others.reduce((sum, row) => sum + utf8Bytes(decryptAppEnvValue(key, row)), 0);
    if (total > MAX_APP_ENV_TOTAL_BYTES) {
      throw new AppError(
        "conflict:app_env_limit",
        `A project's variables hold at most ${MAX_APP_ENV_TOTAL_BYTES / 1024} KB together.`,
      );
    }
    const secret = input.secret ?? existing?.is_secret === 1;
    if (secret && isPublicToBrowsers(input.name)) {
      throw new AppError(
        "bad_request:input",
        "NEXT_PUBLIC_ variables are built into the pages every visitor downloads: they cannot be secret.",
        { fields: { secret: ["NEXT_PUBLIC_ variables cannot be secret."] } },
      );
    }
    const now = Date.now();
    await upsertAppEnvRow(tx, {
      project_id: projectId,
      name: input.name,
      is_secret: secret ? 1 : 0,
      value_ciphertext: encryptAppEnvValue(key, projectId, input.name, input.value),
      created_at: existing?.created_at ?? now,
      updated_at: now,
    });
    return { name: input.name, secret, value: secret ? null : input.value, updatedAt: now };
  });
}
