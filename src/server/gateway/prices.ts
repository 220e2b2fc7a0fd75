/**
 * List prices of the models agents run on, in micro-USD per million tokens ($1.25 / 1M tokens = 1_250_000).
 * Checked 2026-11 against the vendors' public pricing pages, standard tier (no batch, priority or regional
 * surcharges; Anthropic's long-context premium is not modelled). Update by hand when prices change: the figures
 * are only used to meter runs against their budget, not to bill anyone.
 *
 * A model matches the entry with the longest name that equals it or prefixes it up to a "-" ("gpt-5" matches
 * "gpt-5-2025-08-07" and "gpt-5-codex", not "gpt-5.4"). The gateway refuses a model with no entry unless the
 * platform sets a default price (KILN_GATEWAY_DEFAULT_PRICE), so no run spends outside its money budget.
 */

export type ModelPrice = {
  input: number;
  /** Input tokens read from the prompt cache. */
  cachedInput: number;
  /** Input tokens written to the prompt cache (Anthropic, 5-minute TTL); absent = the input price. */
  cacheWrite?: number;
  output: number;
};

export type TokenUsage = {
  /** Every input token, cached or not (for Anthropic: input + cache reads + cache writes). */
  inputTokens: number;
  /** Of `inputTokens`, read from the prompt cache. */
  cachedTokens: number;
  /** Of `inputTokens`, written to the prompt cache. */
  cacheWriteTokens: number;
  outputTokens: number;
};

const openai = (input: number, cachedInput: number, output: number): ModelPrice => ({
  input,
  cachedInput,
  output,
});
const anthropic = (input: number, cacheWrite: number, cachedInput: number, output: number): ModelPrice => ({
  input,
  cachedInput,
  cacheWrite,
  output,
});

export const modelPrices: Record<string, ModelPrice> = {
  // OpenAI (input, cached input, output)
  "gpt-5.5": openai(5_000_000, 500_000, 30_000_000),
  "gpt-5.4": openai(2_500_000, 250_000, 15_000_000),
  "gpt-5.4-mini": openai(750_000, 75_000, 4_500_000),
  "gpt-5.3-codex": openai(1_750_000, 175_000, 14_000_000),
  "gpt-5.2": openai(1_750_000, 175_000, 14_000_000),
  "gpt-5.1": openai(1_250_000, 125_000, 10_000_000),
  "gpt-5.1-codex-mini": openai(250_000, 25_000, 2_000_000),
  "gpt-5": openai(1_250_000, 125_000, 10_000_000),
  "gpt-5-mini": openai(250_000, 25_000, 2_000_000),
  "gpt-5-nano": openai(50_000, 5_000, 400_000),
  "gpt-5-codex-mini": openai(250_000, 25_000, 2_000_000),
  "gpt-5-pro": openai(15_000_000, 15_000_000, 120_000_000),
  "gpt-4.1": openai(2_000_000, 500_000, 8_000_000),
  "gpt-4.1-mini": openai(400_000, 100_000, 1_600_000),
  "gpt-4.1-nano": openai(100_000, 25_000, 400_000),
  "gpt-4o": openai(2_500_000, 1_250_000, 10_000_000),
  "gpt-4o-mini": openai(150_000, 75_000, 600_000),
  o3: openai(2_000_000, 500_000, 8_000_000),
  "o4-mini": openai(1_100_000, 275_000, 4_400_000),
  // Anthropic (input, 5-minute cache write, cache read, output)
  "claude-opus-5": anthropic(5_000_000, 6_250_000, 500_000, 25_000_000),
  "claude-opus-4": anthropic(5_000_000, 6_250_000, 500_000, 25_000_000),
  "claude-opus-4-1": anthropic(15_000_000, 18_750_000, 1_500_000, 75_000_000),
  "claude-opus-4-0": anthropic(15_000_000, 18_750_000, 1_500_000, 75_000_000),
  "claude-opus-4-20250514": anthropic(15_000_000, 18_750_000, 1_500_000, 75_000_000),
  "claude-sonnet-5": anthropic(2_000_000, 2_500_000, 200_000, 10_000_000),
  "claude-sonnet-4": anthropic(3_000_000, 3_750_000, 300_000, 15_000_000),
  "claude-haiku-4": anthropic(1_000_000, 1_250_000, 100_000, 5_000_000),
};

// Longest names first, so the most specific entry wins.
const byLength = Object.keys(modelPrices).sort((a, b) => b.length - a.length);

export function priceOf(model: string): ModelPrice | undefined {
  const name = model.trim().toLowerCase();
  const key = byLength.find((entry) => name === entry || name.startsWith(`${entry}-`));
  return key === undefined ? undefined : modelPrices[key];
}

/**
 * A default price from `"<input>,<output>"` in USD per million tokens (KILN_GATEWAY_DEFAULT_PRICE). Cache reads and
 * writes cost what input costs: without a list price, the careful guess is no discount.
 */
export function parseDefaultPrice(spec: string | undefined): ModelPrice | undefined {
  if (!spec) return undefined;
  const [input, output] = spec.split(",").map((part) => Math.round(Number(part.trim()) * 1_000_000));
  if (input === undefined || output === undefined || !(input >= 0) || !(output >= 0)) {
    throw new RangeError(
      `A default price is "<input>,<output>" in USD per million tokens, not ${JSON.stringify(spec)}`,
    );
  }
  return { input, cachedInput: input, output };
}

/**
 * What `usage` costs on `model`, in micro-USD: its list price, else `fallback` (the price the gateway admitted
 * the request at), else 0.
 */
export function costUsdMicros(model: string, usage: TokenUsage, fallback?: ModelPrice): number {
  const price = priceOf(model) ?? fallback;
  if (!price) return 0;
  return costAt(price, usage);
}

/** What `usage` costs at `price`, in micro-USD. */
export function costAt(price: ModelPrice, usage: TokenUsage): number {
  const fresh = Math.max(0, usage.inputTokens - usage.cachedTokens - usage.cacheWriteTokens);
  const total =
    fresh * price.input +
    usage.cachedTokens * price.cachedInput +
    usage.cacheWriteTokens * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return Math.round(total / 1_000_000);
}
