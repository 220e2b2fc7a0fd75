import Link from "next/link";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { AuditEntry } from "@/server/audit/audit-types";

const labels: Record<string, string> = {
  "operator.create": "Created operator",
  "operator.invite": "Invited operator",
  "operator.disable": "Disabled operator",
  "operator.enable": "Enabled operator",
  "operator.role": "Changed role",
  "operator.password_reset": "Reset password",
  "operator.password_set": "Set password by link",
  "operator.quotas": "Changed quotas",
  "platform.pause": "Paused builds",
  "platform.resume": "Resumed builds",
  "project.budget": "Changed project budget",
  "credential.put": "Saved credential",
  "credential.delete": "Deleted credential",
  "api_token.create": "Created API token",
  "api_token.revoke": "Revoked API token",
  "password.change": "Changed password",
  "login.failed": "Failed sign-in",
};

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(" · ");
}

/** The audit log, a page at a time; the page is in the URL (`?audit=<cursor>`), so Back works. */
export function AuditLog(props: { entries: AuditEntry[]; nextCursor: string | null; isFirstPage: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Audit log</CardTitle>
        <CardDescription>
          Admin actions and credential changes: who, what, when and from where. Newest first. Secrets are
          never recorded.
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        {props.entries.length === 0 ? (
          <p className="text-muted-foreground text-sm">Nothing recorded yet.</p>
        ) : (
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>When</TableHead>
                <TableHead className="hidden sm:table-cell">Who</TableHead>
                <TableHead>What</TableHead>
                <TableHead className="hidden md:table-cell">From</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {props.entries.map((entry) => (
                <TableRow key={entry.id} data-audit-action={entry.action}>
                  <TableCell className="align-top text-xs">
                    <time dateTime={new Date(entry.createdAt).toISOString()} className="grid">
                      <span>{new Date(entry.createdAt).toISOString().slice(0, 10)}</span>
                      <span className="text-muted-foreground">
                        {new Date(entry.createdAt).toISOString().slice(11, 19)} UTC
                      </span>
                    </time>
                  </TableCell>
                  <TableCell className="hidden max-w-40 whitespace-normal break-all align-top sm:table-cell">
                    {entry.actorEmail ?? "—"}
                  </TableCell>
                  <TableCell className="whitespace-normal align-top">
                    <div className="font-medium">{labels[entry.action] ?? entry.action}</div>
                    <div className="break-all text-xs sm:hidden">by {entry.actorEmail ?? "—"}</div>
                    <div className="break-all text-muted-foreground text-xs">{detailText(entry.detail)}</div>
                  </TableCell>
                  <TableCell className="hidden max-w-56 whitespace-normal align-top text-muted-foreground text-xs md:table-cell">
                    <div>{entry.ip ?? "unknown address"}</div>
                    {entry.userAgent ? <div className="truncate">{entry.userAgent}</div> : null}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        <nav aria-label="Audit log pages" className="flex justify-between gap-2">
          {props.isFirstPage ? (
            <span />
          ) : (
            <Button asChild variant="outline" size="sm">
              <Link href="/admin#audit">Newest</Link>
            </Button>
          )}
          {props.nextCursor ? (
            <Button asChild variant="outline" size="sm">
              <Link href={`/admin?audit=${encodeURIComponent(props.nextCursor)}#audit`}>Older</Link>
            </Button>
          ) : null}
        </nav>
      </CardContent>
    </Card>
  );
}
