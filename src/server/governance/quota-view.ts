import {
  formatUsd,
  NO_LIMIT,
  type QuotaLimits,
  type QuotaOverrides,
  type QuotaUsage,
  startOfNextUtcDay,
  startOfNextUtcMonth,
  utcMoment,
} from "./quota-limits";

// Pure (components read its types): an operator's usage against their quotas, ready to show.

export type QuotaKey = "buildsPerDay" | "concurrentRuns" | "tokensPerMonth" | "usdPerMonth";

export type QuotaLine = {
  key: QuotaKey;
  label: string;
  used: string;
  /** The limit in force, formatted; null = no limit. */
  limit: string | null;
  /** used / limit, 0…1 (capped); null without a limit. */
  fraction: number | null;
  /** When the count starts again; null for concurrent runs. */
  resets: string | null;
  /** The operator's override: a number, "none" (no limit whatever the default) or "default". */
  override: number | "none" | "default";
};

export type QuotaView = { lines: QuotaLine[] };

const count = (n: number) => n.toLocaleString("en-US");

function overrideOf(value: number | null | undefined, scale = 1): number | "none" | "default" {
  if (value === null || value === undefined) return "default";
  return value === NO_LIMIT ? "none" : value / scale;
}

function line(
  key: QuotaKey,
  label: string,
  used: number,
  limit: number | null,
  format: (n: number) => string,
  resets: string | null,
  override: number | "none" | "default",
): QuotaLine {
  return {
    key,
    label,
    used: format(used),
    limit: limit === null ? null : format(limit),
    fraction: limit === null ? null : limit === 0 ? 1 : Math.min(1, used / limit),
    resets,
    override,
  };
}

export function toQuotaView(
  status: { limits: QuotaLimits; usage: QuotaUsage; overrides?: QuotaOverrides },
  now: number,
): QuotaView {
  const { limits, usage, overrides } = status;
  const day = utcMoment(startOfNextUtcDay(now));
  const month = utcMoment(startOfNextUtcMonth(now));
  return {
    lines: [
      line(
        "buildsPerDay",
        "Builds today",
        usage.buildsToday,
        limits.buildsPerDay,
        count,
        day,
        overrideOf(overrides?.builds_per_day),
      ),
      line(
        "concurrentRuns",
        "Running now",
        usage.runningNow,
        limits.concurrentRuns,
        count,
        null,
        overrideOf(overrides?.concurrent_runs),
      ),
      line(
        "tokensPerMonth",
        "Tokens this month",
        usage.tokensThisMonth,
        limits.tokensPerMonth,
        count,
        month,
        overrideOf(overrides?.tokens_per_month),
      ),
      line(
        "usdPerMonth",
        "USD this month",
        usage.usdMicrosThisMonth,
        limits.usdPerMonthMicros,
        formatUsd,
        month,
        overrideOf(overrides?.usd_per_month_micros, 1_000_000),
      ),
    ],
  };
}

export type OperatorQuotaView = { userId: string; email: string; view: QuotaView };
