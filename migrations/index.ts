import type { Migration } from "kysely";
import { initial } from "./0001_initial";
import { leases } from "./0002_leases";
import { modelProvider } from "./0003_model_provider";
import { buildOutput } from "./0004_build_output";
import { appEnv } from "./0005_app_env";
import { projectSource } from "./0006_project_source";
import { operators } from "./0007_operators";
import { quotasPause } from "./0008_quotas_pause";
import { taskBranchUnique } from "./0009_task_branch_unique";
import { publish } from "./0010_publish";

/**
 * Every migration, in order. A static list (not a folder scan) so the same set runs from the CLI, from
 * `npm run dev` and from tests, with no bundler or loader in the way. Never rename or edit a shipped entry:
 * add a new one.
 */
export const migrations: Record<string, Migration> = {
  "0001_initial": initial,
  "0002_leases": leases,
  "0003_model_provider": modelProvider,
  "0004_build_output": buildOutput,
  "0005_app_env": appEnv,
  "0006_project_source": projectSource,
  "0007_operators": operators,
  "0008_quotas_pause": quotasPause,
  "0009_task_branch_unique": taskBranchUnique,
  "0010_publish": publish,
};
