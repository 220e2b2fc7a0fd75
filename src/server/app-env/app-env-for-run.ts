import type { Executor } from "@/server/db/connection";
import { listAppEnvRows } from "@/server/db/queries/app-env";
import { decryptAppEnvValue } from "./app-env-cipher";

export type AppEnvForRun = {
  /** Every variable, for the app's own processes (never the coding agent's). */
  env: Record<string, string>;
  /** The secret values, which events, logs and the replay must never show. */
  secrets: string[];
  /** The names of the secret ones (the runner keeps their values out of what it hands the agent). */
  secretNames: string[];
};

/** The project's variables, decrypted for a run, a preview or a deployment. The caller holds the project already. */
export async function appEnvForRun(db: Executor, key: Buffer, projectId: string): Promise<AppEnvForRun> {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  const secretNames: string[] = [];
  for (const row of await listAppEnvRows(db, projectId)) {
    const value = decryptAppEnvValue(key, row);
    env[row.name] = value;
    if (row.is_secret === 1) secretNames.push(row.name);
    if (row.is_secret === 1 && value !== "") secrets.push(value);
  }
  return { env, secrets, secretNames };
}
