import type { Metadata } from "next";
import { AuditLog } from "@/components/admin/audit-log";
import { OperatorsPanel } from "@/components/admin/operators-panel";
import { PauseControl } from "@/components/admin/pause-control";
import { QuotaEditor } from "@/components/admin/quota-editor";
import { QuotaUsageTable } from "@/components/admin/quota-usage-table";
import { timeAgo } from "@/lib/format";
import { listOperators } from "@/server/admin/list-operators";
import { isAuditCursor, listAuditEvents } from "@/server/audit/list-audit-events";
import { requireAdminOrNotFound } from "@/server/entry/current-user";
import { listOperatorQuotas } from "@/server/governance/list-operator-quotas";
import { toPauseDto } from "@/server/governance/pause-dto";
import { getPlatform } from "@/server/platform/get-platform";

export const metadata: Metadata = { title: "Admin" };

const AUDIT_PAGE_SIZE = 25;

export default async function AdminPage({
  searchParams,
}: {
  searchParams: Promise<{ audit?: string | string[] }>;
}) {
  const operator = await requireAdminOrNotFound("/admin");
  const platform = await getPlatform();
  const { db } = platform;
  const { audit } = await searchParams;
  const cursor = typeof audit === "string" && isAuditCursor(audit) ? audit : undefined;
  const now = Date.now();
  const [operators, auditPage, quotas, pause] = await Promise.all([
    listOperators(db),
    listAuditEvents(db, { cursor, limit: AUDIT_PAGE_SIZE }),
    listOperatorQuotas(db, platform.quotas, now),
    platform.pause.fresh(),
  ]);
  const quotaEditors = Object.fromEntries(
    quotas.map((entry) => [
      entry.userId,
      <QuotaEditor key={entry.userId} userId={entry.userId} email={entry.email} view={entry.view} />,
    ]),
  );

  return (
    <div className="space-y-10">
      <div>
        <h1 className="font-semibold text-2xl tracking-tight">Admin</h1>
        <p className="text-muted-foreground text-sm">
          Operators of this Kiln, what they may do, and what admins changed.
        </p>
      </div>
      <section aria-label="Kill switch">
        <PauseControl pause={toPauseDto(pause)} />
      </section>
      <section aria-label="Operators">
        <OperatorsPanel
          currentUserId={operator.id}
          operators={operators.map((o) => ({
            id: o.id,
            email: o.email,
            name: o.name,
            role: o.role,
            disabled: o.disabled,
            projectCount: o.projectCount,
            createdAt: timeAgo(o.createdAt, now),
            lastActive: o.lastActivityAt ? timeAgo(o.lastActivityAt, now) : "Never",
          }))}
          rowSlots={quotaEditors}
        />
      </section>
      <section aria-label="Usage and quotas">
        <QuotaUsageTable operators={quotas} />
      </section>
      <section id="audit" aria-label="Audit log" className="scroll-mt-20">
        <AuditLog
          entries={auditPage.entries}
          nextCursor={auditPage.nextCursor}
          isFirstPage={cursor === undefined}
        />
      </section>
    </div>
  );
}
