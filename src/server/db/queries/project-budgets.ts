import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import { findProjectOfUser } from "./projects";

export type ProjectBudgetWrite = { budget_tokens?: number | null; budget_usd_micros?: number | null };

/** Sets the operator's project's run budget. False when the project is not theirs (or does not exist). */
export async function setProjectBudgetOfUser(
  db: Executor,
  userId: string,
  projectId: string,
  budget: ProjectBudgetWrite,
  now: number,
): Promise<boolean> {
  await db
    .updateTable("project")
    .set({ ...budget, updated_at: now })
    .where("project.id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .execute();
  // Affected-row counts differ between drivers (MySQL may count only changed rows), so ask again.
  return (await findProjectOfUser(db, userId, projectId)) !== undefined;
}

const num = (value: number | string | bigint | null): number => (value === null ? 0 : Number(value));

/** What the project's revisions spent in all (the planner's and the agent's calls) and the most one run spent. */
export async function projectSpend(
  db: Executor,
  projectId: string,
): Promise<{ tokens: number; usdMicros: number; maxRunTokens: number; maxRunUsdMicros: number }> {
  const rows = await db
    .selectFrom("revision")
    .select(["input_tokens", "cached_tokens", "output_tokens", "cost_usd_micros"])
    .where("project_id", "=", projectId)
    .execute();
  let tokens = 0;
  let usdMicros = 0;
  let maxRunTokens = 0;
  let maxRunUsdMicros = 0;
  for (const row of rows) {
    const runTokens = Math.max(0, num(row.input_tokens) - num(row.cached_tokens)) + num(row.output_tokens);
    const runUsd = num(row.cost_usd_micros);
    tokens += runTokens;
    usdMicros += runUsd;
    maxRunTokens = Math.max(maxRunTokens, runTokens);
    maxRunUsdMicros = Math.max(maxRunUsdMicros, runUsd);
  }
  return { tokens, usdMicros, maxRunTokens, maxRunUsdMicros };
}
