import type { Executor } from "../connection";

/** What the model gateway needs to know about a run: whose it is, whether it still runs, and what it spent. */
export type MeteredRun = {
  revisionId: string;
  projectId: string;
  /** The operator who owns the project: their model credential pays for the run. */
  userId: string;
  status: string;
  sandboxId: string | null;
  /** The revision's agent and model, and the project's model: which vendor and model the run may use. */
  agent: string;
  model: string | null;
  projectModel: string | null;
  /** Who serves the model (the revision's, the project's); null on rows from before model providers. */
  modelProvider: string | null;
  projectModelProvider: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsdMicros: number;
  /** Project overrides of the run budget; null = the platform default. */
  budgetTokens: number | null;
  budgetUsdMicros: number | null;
};

// bigint columns come back as numbers from both drivers (mysql2 with bigNumberStrings off), but a driver
// upgrade that returns strings or bigints must not turn additions into concatenations.
const num = (value: number | string | bigint): number => Number(value);
const numOrNull = (value: number | string | bigint | null): number | null =>
  value === null ? null : num(value);

export async function findMeteredRun(db: Executor, revisionId: string): Promise<MeteredRun | undefined> {
  const row = await db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .select([
      "revision.id",
      "revision.project_id",
      "project.user_id",
      "revision.status",
      "revision.sandbox_id",
      "revision.agent",
      "revision.model",
      "project.model as project_model",
      "revision.model_provider",
      "project.model_provider as project_model_provider",
      "revision.input_tokens",
      "revision.output_tokens",
      "revision.cached_tokens",
      "revision.cost_usd_micros",
      "project.budget_tokens",
      "project.budget_usd_micros",
    ])
    .where("revision.id", "=", revisionId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    revisionId: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    status: row.status,
    sandboxId: row.sandbox_id,
    agent: row.agent,
    model: row.model,
    projectModel: row.project_model,
    modelProvider: row.model_provider,
    projectModelProvider: row.project_model_provider,
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cachedTokens: num(row.cached_tokens),
    costUsdMicros: num(row.cost_usd_micros),
    budgetTokens: numOrNull(row.budget_tokens),
    budgetUsdMicros: numOrNull(row.budget_usd_micros),
  };
}

export type UsageWrite = {
  id: string;
  projectId: string;
  revisionId: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsdMicros: number;
  /** The tokens are Kiln's estimate: the upstream reported none. */
  estimated?: boolean;
};

export async function insertUsage(db: Executor, usage: UsageWrite, now: number): Promise<void> {
  await db
    .insertInto("usage")
    .values({
      id: usage.id,
      project_id: usage.projectId,
      revision_id: usage.revisionId,
      provider: usage.provider,
      model: usage.model,
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cached_tokens: usage.cachedTokens,
      cost_usd_micros: usage.costUsdMicros,
      estimated: usage.estimated ? 1 : 0,
      created_at: now,
    })
    .execute();
}

/** Adds to the revision's running totals in place (never read-modify-write: concurrent calls must all count). */
export async function addRevisionUsage(
  db: Executor,
  revisionId: string,
  delta: Pick<UsageWrite, "inputTokens" | "outputTokens" | "cachedTokens" | "costUsdMicros" | "estimated">,
  now: number,
): Promise<void> {
  await db
    .updateTable("revision")
    .set((eb) => ({
      input_tokens: eb("input_tokens", "+", delta.inputTokens),
      output_tokens: eb("output_tokens", "+", delta.outputTokens),
      cached_tokens: eb("cached_tokens", "+", delta.cachedTokens),
      cost_usd_micros: eb("cost_usd_micros", "+", delta.costUsdMicros),
      ...(delta.estimated ? { usage_estimated: 1 } : {}),
      updated_at: now,
    }))
    .where("id", "=", revisionId)
    .execute();
}
