// Pure rules of operator quotas (README "Quotas"): which limits are in force, when counts reset, and what a refusal
// says. Days and months are calendar days and months in UTC: every app server and every operator agrees on when a
// count starts again, and the message can name that moment.

/** Stored in an operator_quota column: no limit for this operator, whatever the platform default. */
export const NO_LIMIT = -1;

/** Limits in force; null = no limit. Money is in micro-USD. */
export type QuotaLimits = {
  buildsPerDay: number | null;
  concurrentRuns: number | null;
  tokensPerMonth: number | null;
  usdPerMonthMicros: number | null;
};

/** An operator's overrides as stored: null = the platform default, NO_LIMIT = none. */
export type QuotaOverrides = {
  builds_per_day: number | null;
  concurrent_runs: number | null;
  tokens_per_month: number | null;
  usd_per_month_micros: number | null;
};

export type QuotaUsage = {
  /** Builds (revisions: prompts, follow-ups, restores) started since 00:00 UTC. */
  buildsToday: number;
  runningNow: number;
  /** Tokens as budgets count them (input less cache reads, plus output) since the 1st, 00:00 UTC. */
  tokensThisMonth: number;
  usdMicrosThisMonth: number;
};

export const noLimits: QuotaLimits = {
  buildsPerDay: null,
  concurrentRuns: null,
  tokensPerMonth: null,
  usdPerMonthMicros: null,
};

function pick(override: number | null | undefined, platformDefault: number | null): number | null {
  if (override === null || override === undefined) return platformDefault;
  return override === NO_LIMIT ? null : override;
}

export function effectiveLimits(defaults: QuotaLimits, overrides: QuotaOverrides | undefined): QuotaLimits {
  return {
    buildsPerDay: pick(overrides?.builds_per_day, defaults.buildsPerDay),
    concurrentRuns: pick(overrides?.concurrent_runs, defaults.concurrentRuns),
    tokensPerMonth: pick(overrides?.tokens_per_month, defaults.tokensPerMonth),
    usdPerMonthMicros: pick(overrides?.usd_per_month_micros, defaults.usdPerMonthMicros),
  };
}

export function startOfUtcDay(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

export function startOfNextUtcDay(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

export function startOfUtcMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function startOfNextUtcMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** "2026-12-08 00:00 UTC" */
export function utcMoment(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function formatUsd(usdMicros: number): string {
  const usd = usdMicros / 1_000_000;
  return `$${usd.toFixed(usd === 0 || usd >= 1 ? 2 : 4)}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

const RAISE = "An admin can raise your quotas on the Admin page.";

/** What refuses a run already under way: the month's tokens or money used up (checked by the gateway). */
export function monthlyQuotaRefusal(limits: QuotaLimits, usage: QuotaUsage, now: number): string | undefined {
  const resets = utcMoment(startOfNextUtcMonth(now));
  if (limits.tokensPerMonth !== null && usage.tokensThisMonth >= limits.tokensPerMonth) {
    return (
      `Quota exceeded: tokens per month. Your projects used ${count(usage.tokensThisMonth)} of your ` +
      `${count(limits.tokensPerMonth)} tokens this month (not counting cache reads); the quota resets at ${resets}. ${RAISE}`
    );
  }
  if (limits.usdPerMonthMicros !== null && usage.usdMicrosThisMonth >= limits.usdPerMonthMicros) {
    return (
      `Quota exceeded: money per month. Your projects spent ${formatUsd(usage.usdMicrosThisMonth)} of your ` +
      `${formatUsd(limits.usdPerMonthMicros)} this month; the quota resets at ${resets}. ${RAISE}`
    );
  }
  return undefined;
}

/** What refuses a new build (a project, follow-up, restore or task): any limit reached. */
export function buildQuotaRefusal(limits: QuotaLimits, usage: QuotaUsage, now: number): string | undefined {
  if (limits.buildsPerDay !== null && usage.buildsToday >= limits.buildsPerDay) {
    return (
      `Quota exceeded: builds per day. You started ${count(usage.buildsToday)} of your ${count(limits.buildsPerDay)} ` +
      `builds today (UTC); the count resets at ${utcMoment(startOfNextUtcDay(now))}. ${RAISE}`
    );
  }
  if (limits.concurrentRuns !== null && usage.runningNow >= limits.concurrentRuns) {
    return (
      `Quota exceeded: concurrent runs. ${count(usage.runningNow)} of your ${count(limits.concurrentRuns)} ` +
      `concurrent builds are running; start this one when one of them finishes or is cancelled. ${RAISE}`
    );
  }
  return monthlyQuotaRefusal(limits, usage, now);
}
