import type { MeteredRun } from "@/server/db/queries/usage";

/** Platform defaults (KILN_RUN_BUDGET_TOKENS, KILN_RUN_BUDGET_USD in micro-USD). 0 = no limit. */
export type RunBudgetDefaults = { tokens: number; usdMicros: number };

export type BudgetCheck = { ok: true } | { ok: false; message: string };

/**
 * Tokens counted against a budget: input and output, but not cache reads. An agent re-sends its whole
 * conversation every turn and most of it is a cache hit at a tenth of the price; counting those would end long
 * runs for spending almost nothing. Money (which does price cache reads) is the budget that tracks them.
 */
export function budgetedTokens(
  run: Pick<MeteredRun, "inputTokens" | "outputTokens" | "cachedTokens">,
): number {
  return Math.max(0, run.inputTokens - run.cachedTokens) + run.outputTokens;
}

/** Cents for real money, more digits for the sub-cent budgets of tests and cheap local models. */
function dollars(usdMicros: number): string {
  const usd = usdMicros / 1_000_000;
  return `$${usd.toFixed(usd === 0 || usd >= 1 ? 2 : 4)}`;
}

function tokens(n: number): string {
  return n.toLocaleString("en-US");
}

/** Checked before every upstream call; a run that has reached either limit gets no further request. */
export function checkBudget(run: MeteredRun, defaults: RunBudgetDefaults): BudgetCheck {
  const tokenLimit = run.budgetTokens ?? defaults.tokens;
  const usdLimit = run.budgetUsdMicros ?? defaults.usdMicros;
  const usedTokens = budgetedTokens(run);
  const overTokens = tokenLimit > 0 && usedTokens >= tokenLimit;
  const overUsd = usdLimit > 0 && run.costUsdMicros >= usdLimit;
  if (!overTokens && !overUsd) return { ok: true };
  const limits = [
    tokenLimit > 0 ? `${tokens(tokenLimit)} tokens` : null,
    usdLimit > 0 ? dollars(usdLimit) : null,
  ]
    .filter((part) => part !== null)
    .join(" / ");
  return {
    ok: false,
    message:
      `Budget exceeded: this run used its budget of ${limits} (so far ${tokens(usedTokens)} tokens, not counting ` +
      `cache reads, and ${dollars(run.costUsdMicros)}). Raise the budget in the project's settings (Budget) or via ` +
      `PATCH /api/v1/projects/${run.projectId} {"budgetTokens", "budgetUsd"}, then start a new revision.`,
  };
}
