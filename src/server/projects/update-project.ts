import { z } from "zod";
import { recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { setProjectBudgetOfUser } from "@/server/db/queries/project-budgets";
import { renameProjectOfUser } from "@/server/db/queries/projects";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { renameProjectInputSchema } from "./rename-project";

// A project's run budget (README "Budgets"): tokens and USD one revision's model calls may use (the planner's and
// the agent's). null = the platform default (KILN_RUN_BUDGET_*); 0 = no limit, as for the defaults.
export const projectBudgetSchema = z.object({
  budgetTokens: z
    .number({ error: "Tokens are a number (or null for the platform default)" })
    .int("Tokens are a whole number")
    .min(0, "Tokens are 0 (no limit) or more")
    .max(1e12, "That is more tokens than a run could use")
    .nullable()
    .optional(),
  budgetUsd: z
    .number({ error: "USD is a number (or null for the platform default)" })
    .min(0, "USD is 0 (no limit) or more")
    .max(1e6, "Keep a run's budget under $1,000,000")
    .nullable()
    .optional(),
});

export const updateProjectInputSchema = renameProjectInputSchema
  .partial()
  .extend(projectBudgetSchema.shape)
  .strict()
  .refine(
    (input) => input.name !== undefined || input.budgetTokens !== undefined || input.budgetUsd !== undefined,
    { message: "Send a name, budgetTokens or budgetUsd" },
  );
export type UpdateProjectInput = z.output<typeof updateProjectInputSchema>;

/**
 * `PATCH /api/v1/projects/:id`: renames the operator's project and/or sets its run budget, together or not at all.
 * Not theirs: NOT_FOUND. A budget change is audited.
 */
export async function updateProject(
  db: Executor,
  userId: string,
  projectId: string,
  input: UpdateProjectInput,
  from: { ip: string | null; userAgent: string | null } = { ip: null, userAgent: null },
  now = Date.now(),
): Promise<void> {
  await inTransaction(db, async (tx) => {
    if (input.name !== undefined && !(await renameProjectOfUser(tx, userId, projectId, input.name, now))) {
      throw new AppError("not_found:project");
    }
    if (input.budgetTokens === undefined && input.budgetUsd === undefined) return;
    const budget = {
      ...(input.budgetTokens !== undefined ? { budget_tokens: input.budgetTokens } : {}),
      ...(input.budgetUsd !== undefined
        ? { budget_usd_micros: input.budgetUsd === null ? null : Math.round(input.budgetUsd * 1_000_000) }
        : {}),
    };
    if (!(await setProjectBudgetOfUser(tx, userId, projectId, budget, now))) {
      throw new AppError("not_found:project");
    }
    await recordAudit(
      tx,
      {
        actorId: userId,
        action: "project.budget",
        target: { type: "project", id: projectId },
        detail: {
          ...(input.budgetTokens !== undefined ? { budgetTokens: input.budgetTokens } : {}),
          ...(input.budgetUsd !== undefined ? { budgetUsd: input.budgetUsd } : {}),
        },
        ip: from.ip,
        userAgent: from.userAgent,
      },
      now,
    );
  });
}
