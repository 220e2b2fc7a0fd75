import { z } from "zod";
import { recordAudit } from "@/server/audit/record-audit";
import type { Executor } from "@/server/db/connection";
import { findOperatorQuota, upsertOperatorQuota } from "@/server/db/queries/quotas";
import { findUserById } from "@/server/db/queries/users";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { NO_LIMIT, type QuotaOverrides } from "./quota-limits";

// A limit: a number, null for "no limit for this operator", or "default" for the platform's (KILN_QUOTA_*).
// Omitted: unchanged.
const count = (what: string) =>
  z
    .union([
      z.number().int(`${what} is a whole number`).min(0, `${what} is 0 or more`).max(1e12),
      z.null(),
      z.literal("default"),
    ])
    .optional();

export const operatorQuotasSchema = z
  .object({
    buildsPerDay: count("Builds per day"),
    concurrentRuns: count("Concurrent runs"),
    tokensPerMonth: count("Tokens per month"),
    usdPerMonth: z
      .union([z.number().min(0, "USD per month is 0 or more").max(1e9), z.null(), z.literal("default")])
      .optional(),
  })
  .strict();
export type OperatorQuotasInput = z.input<typeof operatorQuotasSchema>;

function stored(value: number | null | "default" | undefined, current: number | null): number | null {
  if (value === undefined) return current;
  if (value === "default") return null;
  return value === null ? NO_LIMIT : value;
}

/** Who changed the quotas, for the audit log. */
export type QuotaAuditContext = { actorId: string | null; ip?: string | null; userAgent?: string | null };

/**
 * Sets an operator's quota overrides (admins only; the caller checks), audited when `audit` names the admin.
 * No such operator: NOT_FOUND.
 */
export async function setOperatorQuotas(
  db: Executor,
  userId: string,
  input: OperatorQuotasInput,
  audit?: QuotaAuditContext,
  now = Date.now(),
): Promise<QuotaOverrides> {
  const quotas = operatorQuotasSchema.parse(input);
  return inTransaction(db, async (tx) => {
    if (!(await findUserById(tx, userId))) throw new AppError("not_found:operator");
    const current = await findOperatorQuota(tx, userId);
    const usd = quotas.usdPerMonth;
    const next: QuotaOverrides = {
      builds_per_day: stored(quotas.buildsPerDay, current?.builds_per_day ?? null),
      concurrent_runs: stored(quotas.concurrentRuns, current?.concurrent_runs ?? null),
      tokens_per_month: stored(quotas.tokensPerMonth, current?.tokens_per_month ?? null),
      usd_per_month_micros: stored(
        typeof usd === "number" ? Math.round(usd * 1_000_000) : usd,
        current?.usd_per_month_micros ?? null,
      ),
    };
    await upsertOperatorQuota(tx, userId, next, now);
    if (audit) {
      await recordAudit(
        tx,
        {
          actorId: audit.actorId,
          action: "operator.quotas",
          target: { type: "user", id: userId },
          detail: Object.fromEntries(
            Object.entries(quotas).map(([key, value]) => [key, value === undefined ? null : value]),
          ),
          ip: audit.ip,
          userAgent: audit.userAgent,
        },
        now,
      );
    }
    return next;
  });
}
