/** A project's Budget section: per-run limits (null = the platform default, 0 = no limit) and spend so far. */
export type ProjectBudgetView = {
  projectId: string;
  tokens: number | null;
  usd: number | null;
  defaults: { tokens: number; usd: number };
  spent: { tokens: number; usd: number; maxRunTokens: number; maxRunUsd: number };
};
