import type { Database } from "@/server/db/connection";
import { addRevisionUsage, insertUsage, type UsageWrite } from "@/server/db/queries/usage";
import { inTransaction } from "@/server/db/transaction";
import { newId } from "@/server/ids";
import { costAt, costUsdMicros, type ModelPrice, type TokenUsage } from "./prices";

export type UsageRecord = {
  projectId: string;
  revisionId: string;
  /** Who served the call: "openai", "anthropic" or "openai-compatible". */
  provider: string;
  model: string;
  usage: TokenUsage;
  /** The price the request was admitted at: used when the vendor reports a model without a list price. */
  price?: ModelPrice;
  /** The price to use whatever the model's name (an OpenAI-compatible server's own, from its credential). */
  fixedPrice?: ModelPrice;
  /** The tokens are Kiln's estimate (the upstream reported none). */
  estimated?: boolean;
};

/** One `usage` row per upstream call and the revision's totals, together or not at all. */
export async function recordUsage(db: Database, record: UsageRecord, now = Date.now()): Promise<UsageWrite> {
  const write: UsageWrite = {
    id: newId("usage"),
    projectId: record.projectId,
    revisionId: record.revisionId,
    provider: record.provider,
    // The column is varchar(100); a longer name is not a model we price anyway.
    model: record.model.slice(0, 100),
    inputTokens: record.usage.inputTokens,
    outputTokens: record.usage.outputTokens,
    cachedTokens: record.usage.cachedTokens,
    costUsdMicros: record.fixedPrice
      ? costAt(record.fixedPrice, record.usage)
      : costUsdMicros(record.model, record.usage, record.price),
    estimated: record.estimated === true,
  };
  await inTransaction(db, async (tx) => {
    await insertUsage(tx, write, now);
    await addRevisionUsage(tx, record.revisionId, write, now);
  });
  return write;
}
