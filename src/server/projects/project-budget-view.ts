import type { Executor } from "@/server/db/connection";
import { projectSpend } from "@/server/db/queries/project-budgets";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { AppError } from "@/server/errors";
import type { ProjectBudgetView } from "./project-budget-types";

/** The project's run budget, the platform's default, and what its runs spent (the Budget section). */
export async function getProjectBudgetView(
  db: Executor,
  userId: string,
  projectId: string,
  /** The platform's run budget (KILN_RUN_BUDGET_*, money in micro-USD; 0 = no limit). */
  defaults: { tokens: number; usdMicros: number },
): Promise<ProjectBudgetView> {
  const project = await findProjectOfUser(db, userId, projectId);
  if (!project) throw new AppError("not_found:project");
  const spend = await projectSpend(db, projectId);
  return {
    projectId,
    tokens: project.budget_tokens === null ? null : Number(project.budget_tokens),
    usd: project.budget_usd_micros === null ? null : Number(project.budget_usd_micros) / 1_000_000,
    defaults: { tokens: defaults.tokens, usd: defaults.usdMicros / 1_000_000 },
    spent: {
      tokens: spend.tokens,
      usd: spend.usdMicros / 1_000_000,
      maxRunTokens: spend.maxRunTokens,
      maxRunUsd: spend.maxRunUsdMicros / 1_000_000,
    },
  };
}
