import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { cn } from "@/lib/utils";
import type { QuotaLine, QuotaView } from "@/server/governance/quota-view";

/** One quota: what was used against the limit, with a bar and when it resets. */
export function QuotaMeter({ line }: { line: QuotaLine }) {
  const full = line.fraction !== null && line.fraction >= 1;
  return (
    <div className="grid gap-1" data-quota={line.key}>
      <div className="flex items-baseline justify-between gap-2 text-sm">
        <span className="text-muted-foreground">{line.label}</span>
        <span className={cn("tabular-nums", full && "font-medium text-destructive")}>
          {line.used}
          {line.limit === null ? (
            <span className="text-muted-foreground"> · no limit</span>
          ) : (
            <span className="text-muted-foreground"> of {line.limit}</span>
          )}
        </span>
      </div>
      {line.fraction !== null ? (
        // The figures above say it in words; the bar is for the eye.
        <div className="h-1.5 overflow-hidden rounded-full bg-muted" aria-hidden>
          <div
            className={cn("h-full rounded-full", full ? "bg-destructive" : "bg-primary")}
            style={{ width: `${line.fraction * 100}%` }}
          />
        </div>
      ) : null}
      {line.resets && line.limit !== null ? (
        <span className="text-muted-foreground text-xs">Resets {line.resets}</span>
      ) : null}
    </div>
  );
}

/** Settings: the operator's usage against their quotas (platform defaults or an admin's overrides). */
export function QuotaUsageCard({ view }: { view: QuotaView }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Usage and quotas</CardTitle>
        <CardDescription>
          Builds (projects, follow-ups, restores) count per UTC day; tokens and money per UTC month, across
          all your projects, planning included. Past a quota, new builds are refused and a running build stops
          at its next model call. An admin can change your quotas.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-5 sm:grid-cols-2">
        {view.lines.map((line) => (
          <QuotaMeter key={line.key} line={line} />
        ))}
      </CardContent>
    </Card>
  );
}
