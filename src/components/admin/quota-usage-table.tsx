import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { cn } from "@/lib/utils";
import type { OperatorQuotaView, QuotaLine } from "@/server/governance/quota-view";

function Cell({ line, className }: { line: QuotaLine | undefined; className?: string }) {
  if (!line) return <TableCell className={className} />;
  const full = line.fraction !== null && line.fraction >= 1;
  return (
    <TableCell className={cn("text-right tabular-nums", full && "font-medium text-destructive", className)}>
      {line.used}
      <span className="text-muted-foreground"> / {line.limit ?? "∞"}</span>
    </TableCell>
  );
}

/** The Admin page: every operator's usage against their quotas (edit them with each operator's Quotas button). */
export function QuotaUsageTable({ operators }: { operators: OperatorQuotaView[] }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Usage and quotas</CardTitle>
        <CardDescription>
          Used / limit (∞: none). Builds count per UTC day, tokens and money per UTC month. Limits come from
          the platform defaults (KILN_QUOTA_*) unless an operator&apos;s Quotas say otherwise.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Table>
          <TableHeader>
            <TableRow>
              <TableHead>Operator</TableHead>
              <TableHead className="text-right">Builds today</TableHead>
              <TableHead className="text-right">Running</TableHead>
              <TableHead className="hidden text-right sm:table-cell">Tokens this month</TableHead>
              <TableHead className="hidden text-right sm:table-cell">USD this month</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {operators.map(({ userId, email, view }) => {
              const line = (key: QuotaLine["key"]) => view.lines.find((candidate) => candidate.key === key);
              return (
                <TableRow key={userId} data-quota-operator={email}>
                  <TableCell className="max-w-56 break-all">{email}</TableCell>
                  <Cell line={line("buildsPerDay")} />
                  <Cell line={line("concurrentRuns")} />
                  <Cell line={line("tokensPerMonth")} className="hidden sm:table-cell" />
                  <Cell line={line("usdPerMonth")} className="hidden sm:table-cell" />
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}
