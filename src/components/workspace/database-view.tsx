"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { RevisionDatabase } from "@/server/revisions/revision-database-types";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { revisionDatabaseSchema } from "./revision-schemas";
import { TableRows } from "./table-rows";
import { useRevisionJson } from "./use-revision-json";

/** A checkpoint's own database branch: its tables (columns and rows), and the migrations applied to it. */
export function DatabaseView({ revision }: { revision: RevisionDto | null }) {
  const ready =
    Boolean(revision?.dbBranchId) && !["queued", "planning", "provisioning"].includes(revision?.status ?? "");
  const loaded = useRevisionJson(
    revision?.id ?? null,
    { path: "database", key: "database" },
    ready,
    revisionDatabaseSchema,
  );
  if (!ready)
    return <p className="text-muted-foreground text-sm">The database appears once it is provisioned.</p>;
  if (loaded.state === "loading") return <Spinner label="Reading the database" />;
  if (loaded.state === "error") return <p className="text-destructive text-sm">{loaded.message}</p>;
  const { tables, migrations } = loaded.data;
  return (
    <div className="space-y-4 text-sm">
      <section aria-labelledby="db-tables" className="space-y-2">
        <h3 id="db-tables" className="font-medium">
          Tables ({tables.length})
        </h3>
        {tables.length === 0 ? <p className="text-muted-foreground">No tables yet.</p> : null}
        {tables.map((table) => (
          <TableCard key={`${revision?.id}:${table.name}`} revisionId={revision?.id ?? ""} table={table} />
        ))}
      </section>
      <section aria-labelledby="db-migrations" className="space-y-2">
        <h3 id="db-migrations" className="font-medium">
          Migrations applied ({migrations.length})
        </h3>
        <ol className="space-y-1 font-mono text-xs">
          {migrations.map((migration) => (
            <li key={migration.name} className="flex justify-between gap-3">
              <span className="truncate">{migration.name}</span>
              <span className="shrink-0 text-muted-foreground">{migration.appliedAt}</span>
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

/** One table: its columns, or its rows (read when asked for). */
function TableCard({ revisionId, table }: { revisionId: string; table: RevisionDatabase["tables"][number] }) {
  const [view, setView] = useState<"columns" | "rows">("columns");
  return (
    <details open className="rounded-lg border">
      <summary className="flex cursor-pointer items-center gap-2 px-3 py-2">
        <span className="font-mono text-xs">{table.name}</span>
        <span className="ml-auto flex gap-1">
          {(["columns", "rows"] as const).map((option) => (
            <Button
              key={option}
              type="button"
              size="sm"
              variant={view === option ? "secondary" : "ghost"}
              aria-pressed={view === option}
              aria-label={`${option === "columns" ? "Columns" : "Rows"} of ${table.name}`}
              className="h-6 px-2 text-xs capitalize"
              onClick={(event) => {
                event.preventDefault();
                setView(option);
              }}
            >
              {option}
            </Button>
          ))}
        </span>
      </summary>
      {view === "rows" ? (
        <TableRows revisionId={revisionId} table={table.name} />
      ) : (
        <table className="w-full text-left text-xs">
          <thead className="text-muted-foreground">
            <tr>
              <th className="px-3 py-1 font-normal">Column</th>
              <th className="px-3 py-1 font-normal">Type</th>
              <th className="px-3 py-1 font-normal">Null</th>
            </tr>
          </thead>
          <tbody>
            {table.columns.map((column) => (
              <tr key={column.name} className="border-t">
                <td className="px-3 py-1 font-mono">{column.name}</td>
                <td className="px-3 py-1 font-mono">{column.type}</td>
                <td className="px-3 py-1">{column.nullable ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
