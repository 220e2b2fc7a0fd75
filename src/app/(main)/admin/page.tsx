import type { Metadata } from "next";
import { AuditLog } from "@/components/admin/audit-log";
import { OperatorsPanel } from "@/components/admin/operators-panel";
import { timeAgo } from "@/lib/format";
import { listOperators } from "@/server/admin/list-operators";
import { isAuditCursor, listAuditEvents } from "@/server/audit/list-audit-events";
import { requireAdminOrNotFound } from "@/server/entry/current-user";
import { getPlatform } from "@/server/platform/get-platform";

export const metadata: Metadata = { title: "Admin" };

const AUDIT_PAGE_SIZE = 25;

export default async function AdminPage({
  searchParams,
}: {
  searchParams: Promise<{ audit?: string | string[] }>;
}) {
  const operator = await requireAdminOrNotFound("/admin");
  const { db } = await getPlatform();
  const { audit } = await searchParams;
  const cursor = typeof audit === "string" && isAuditCursor(audit) ? audit : undefined;
  const [operators, auditPage] = await Promise.all([
    listOperators(db),
    listAuditEvents(db, { cursor, limit: AUDIT_PAGE_SIZE }),
  ]);
  const now = Date.now();

  return (
    <div className="space-y-10">
      <div>
        <h1 className="font-semibold text-2xl tracking-tight">Admin</h1>
        <p className="text-muted-foreground text-sm">
          Operators of this Kiln, what they may do, and what admins changed.
        </p>
      </div>
      {/* Platform controls slot: the pause switch for all builds goes here (issue 11, quotas). */}
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
          // Quota editing slot: per-operator controls keyed by operator id (issue 11, quotas).
          rowSlots={{}}
        />
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
