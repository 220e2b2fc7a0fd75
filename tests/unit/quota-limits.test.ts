import { describe, expect, it } from "vitest";
import { parseEnv } from "@/server/config/env-schema";
import { toPauseDto } from "@/server/governance/pause-dto";
import { pausedMessage } from "@/server/governance/pause-state";
import {
  buildQuotaRefusal,
  effectiveLimits,
  monthlyQuotaRefusal,
  NO_LIMIT,
  noLimits,
  type QuotaUsage,
  startOfNextUtcDay,
  startOfNextUtcMonth,
  startOfUtcDay,
  startOfUtcMonth,
  utcMoment,
} from "@/server/governance/quota-limits";
import { toQuotaView } from "@/server/governance/quota-view";

const at = (iso: string) => Date.parse(iso);
const idle: QuotaUsage = { buildsToday: 0, runningNow: 0, tokensThisMonth: 0, usdMicrosThisMonth: 0 };

describe("quota windows (calendar days and months in UTC)", () => {
  it("a day starts at 00:00 UTC whatever the server's time zone, and the next one a day later", () => {
    expect(startOfUtcDay(at("2026-12-07T23:59:59.999Z"))).toBe(at("2026-12-07T00:00:00Z"));
    expect(startOfNextUtcDay(at("2026-12-07T00:00:00Z"))).toBe(at("2026-12-08T00:00:00Z"));
    expect(startOfNextUtcDay(at("2026-12-31T12:00:00Z"))).toBe(at("2027-01-01T00:00:00Z"));
  });

  it("a month starts on the 1st; the next one across month ends, leap days and the year's end", () => {
    expect(startOfUtcMonth(at("2026-12-31T23:00:00Z"))).toBe(at("2026-12-01T00:00:00Z"));
    expect(startOfNextUtcMonth(at("2026-12-31T23:00:00Z"))).toBe(at("2027-01-01T00:00:00Z"));
    expect(startOfNextUtcMonth(at("2028-02-29T10:00:00Z"))).toBe(at("2028-03-01T00:00:00Z"));
    expect(startOfNextUtcMonth(at("2027-01-31T10:00:00Z"))).toBe(at("2027-02-01T00:00:00Z"));
    expect(utcMoment(at("2027-02-01T00:00:00Z"))).toBe("2027-02-01 00:00 UTC");
  });
});

describe("limits in force", () => {
  const defaults = {
    buildsPerDay: 10,
    concurrentRuns: 2,
    tokensPerMonth: null,
    usdPerMonthMicros: 5_000_000,
  };

  it("an override wins, NO_LIMIT lifts a default, null keeps it", () => {
    expect(effectiveLimits(defaults, undefined)).toEqual(defaults);
    expect(
      effectiveLimits(defaults, {
        builds_per_day: 3,
        concurrent_runs: NO_LIMIT,
        tokens_per_month: 1000,
        usd_per_month_micros: null,
      }),
    ).toEqual({ buildsPerDay: 3, concurrentRuns: null, tokensPerMonth: 1000, usdPerMonthMicros: 5_000_000 });
    // 0 is a limit (nothing allowed), not "none".
    expect(effectiveLimits(noLimits, { ...allDefault, builds_per_day: 0 }).buildsPerDay).toBe(0);
  });
});

const allDefault = {
  builds_per_day: null,
  concurrent_runs: null,
  tokens_per_month: null,
  usd_per_month_micros: null,
};

describe("refusals name the limit and when it resets", () => {
  const now = at("2026-12-07T15:30:00Z");

  it("nothing is refused without limits or under them", () => {
    expect(buildQuotaRefusal(noLimits, { ...idle, buildsToday: 1e6, runningNow: 1e6 }, now)).toBeUndefined();
    expect(
      buildQuotaRefusal(
        { ...noLimits, buildsPerDay: 3, concurrentRuns: 2 },
        { ...idle, buildsToday: 2, runningNow: 1 },
        now,
      ),
    ).toBeUndefined();
  });

  it("builds per day resets at the next 00:00 UTC", () => {
    const message = buildQuotaRefusal({ ...noLimits, buildsPerDay: 3 }, { ...idle, buildsToday: 3 }, now);
    expect(message).toBe(
      "Quota exceeded: builds per day. You started 3 of your 3 builds today (UTC); the count resets at 2026-12-08 00:00 UTC. An admin can raise your quotas on the Admin page.",
    );
  });

  it("concurrent runs wait for a running build, not a clock", () => {
    const message = buildQuotaRefusal({ ...noLimits, concurrentRuns: 1 }, { ...idle, runningNow: 1 }, now);
    expect(message).toContain("Quota exceeded: concurrent runs. 1 of your 1 concurrent builds are running");
    expect(message).not.toContain("resets");
  });

  it("tokens and money per month reset on the 1st (UTC), and stop runs in flight too", () => {
    const tokens = monthlyQuotaRefusal(
      { ...noLimits, tokensPerMonth: 1_000_000 },
      { ...idle, tokensThisMonth: 1_200_000 },
      now,
    );
    expect(tokens).toContain("used 1,200,000 of your 1,000,000 tokens this month");
    expect(tokens).toContain("resets at 2027-01-01 00:00 UTC");
    const usd = monthlyQuotaRefusal(
      { ...noLimits, usdPerMonthMicros: 25_000_000 },
      { ...idle, usdMicrosThisMonth: 25_000_001 },
      now,
    );
    expect(usd).toContain("spent $25.00 of your $25.00 this month");
    expect(
      buildQuotaRefusal({ ...noLimits, usdPerMonthMicros: 1 }, { ...idle, usdMicrosThisMonth: 1 }, now),
    ).toContain("money per month");
  });
});

describe("the settings view of quotas", () => {
  it("shows used against the limit, the reset, and the override kind", () => {
    const view = toQuotaView(
      {
        limits: { buildsPerDay: 4, concurrentRuns: null, tokensPerMonth: 1000, usdPerMonthMicros: 2_500_000 },
        usage: { buildsToday: 1, runningNow: 2, tokensThisMonth: 1500, usdMicrosThisMonth: 500_000 },
        overrides: { ...allDefault, concurrent_runs: NO_LIMIT, usd_per_month_micros: 2_500_000 },
      },
      at("2026-12-07T15:30:00Z"),
    );
    expect(view.lines).toEqual([
      expect.objectContaining({
        key: "buildsPerDay",
        used: "1",
        limit: "4",
        fraction: 0.25,
        override: "default",
      }),
      expect.objectContaining({
        key: "concurrentRuns",
        used: "2",
        limit: null,
        fraction: null,
        override: "none",
      }),
      expect.objectContaining({ key: "tokensPerMonth", used: "1,500", limit: "1,000", fraction: 1 }),
      expect.objectContaining({ key: "usdPerMonth", used: "$0.5000", limit: "$2.50", override: 2.5 }),
    ]);
    expect(view.lines[0]?.resets).toBe("2026-12-08 00:00 UTC");
    expect(view.lines[3]?.resets).toBe("2027-01-01 00:00 UTC");
  });
});

describe("KILN_QUOTA_* variables", () => {
  it("unset, empty or 0 is no limit; a number is the limit; nonsense fails at boot", () => {
    const none = parseEnv({});
    expect([none.KILN_QUOTA_BUILDS_PER_DAY, none.KILN_QUOTA_USD_PER_MONTH]).toEqual([undefined, undefined]);
    const set = parseEnv({
      KILN_QUOTA_BUILDS_PER_DAY: "20",
      KILN_QUOTA_CONCURRENT_RUNS: "0",
      KILN_QUOTA_TOKENS_PER_MONTH: "5000000",
      KILN_QUOTA_USD_PER_MONTH: "12.5",
    });
    expect([
      set.KILN_QUOTA_BUILDS_PER_DAY,
      set.KILN_QUOTA_CONCURRENT_RUNS,
      set.KILN_QUOTA_TOKENS_PER_MONTH,
      set.KILN_QUOTA_USD_PER_MONTH,
    ]).toEqual([20, undefined, 5_000_000, 12.5]);
    expect(() => parseEnv({ KILN_QUOTA_BUILDS_PER_DAY: "-1" })).toThrow(/KILN_QUOTA_BUILDS_PER_DAY/);
    expect(() => parseEnv({ KILN_QUOTA_CONCURRENT_RUNS: "1.5" })).toThrow(/KILN_QUOTA_CONCURRENT_RUNS/);
    expect(() => parseEnv({ KILN_QUOTA_USD_PER_MONTH: "lots" })).toThrow(/KILN_QUOTA_USD_PER_MONTH/);
  });
});

describe("the pause as shown", () => {
  it("names the admin's reason once, however it ends", () => {
    const pause = { reason: "Vendor outage.", pausedBy: "usr_1", pausedAt: at("2026-12-07T15:30:00Z") };
    expect(pausedMessage(pause)).toBe(
      "An admin paused all agent work on this Kiln: Vendor outage. New work is refused until an admin resumes it.",
    );
    expect(toPauseDto(pause)).toEqual({
      paused: true,
      reason: "Vendor outage.",
      pausedAt: "2026-12-07T15:30:00.000Z",
      pausedBy: "usr_1",
    });
    expect(toPauseDto(undefined)).toEqual({ paused: false });
  });
});
