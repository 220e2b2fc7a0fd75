import type { Executor } from "@/server/db/connection";
import { listOperatorIds } from "@/server/db/queries/quotas";
import type { QuotaLimits } from "./quota-limits";
import type { OperatorQuotaView } from "./quota-view";
import { toQuotaView } from "./quota-view";
import { readQuotaStatus } from "./read-quota-status";

/** Every operator's usage against their quotas, for admins. */
export async function listOperatorQuotas(
  db: Executor,
  defaults: QuotaLimits,
  now = Date.now(),
): Promise<OperatorQuotaView[]> {
  const views: OperatorQuotaView[] = [];
  for (const operator of await listOperatorIds(db)) {
    const status = await readQuotaStatus(db, defaults, operator.id, now);
    views.push({ userId: operator.id, email: operator.email, view: toQuotaView(status, now) });
  }
  return views;
}
