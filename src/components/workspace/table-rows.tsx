"use client";

import { ChevronLeftIcon, ChevronRightIcon } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { tableRowsSchema } from "./revision-schemas";
import { useRevisionJson } from "./use-revision-json";

/** Rows per page: must match ROWS_PER_PAGE on the server (src/server/revisions/revision-database.ts). */
const PAGE_SIZE = 50;

/** One table's rows in the checkpoint's database branch, a page at a time (read live, never written). */
export function TableRows({ revisionId, table }: { revisionId: string; table: string }) {
  const [page, setPage] = useState(1);
  const path = `database/rows?${new URLSearchParams({ table, page: String(page) })}`;
  const loaded = useRevisionJson(revisionId, { path, key: "rows" }, true, tableRowsSchema);
  if (loaded.state === "loading") return <Spinner label={`Reading the rows of ${table}`} />;
  if (loaded.state === "error") return <p className="text-destructive text-xs">{loaded.message}</p>;
  const { columns, rows, total, offset } = loaded.data;
  if (total === 0) return <p className="px-3 py-2 text-muted-foreground text-xs">No rows yet.</p>;
  const last = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <div className="space-y-2">
      <div className="overflow-x-auto">
        <table className="w-full text-left text-xs" aria-label={`Rows of ${table}`}>
          <thead className="text-muted-foreground">
            <tr>
              {columns.map((column) => (
                <th key={column} scope="col" className="whitespace-nowrap px-3 py-1 font-mono font-normal">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              // Rows have no key of their own here (a table may have no primary key): their place on the page is it.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <tr key={offset + index} className="border-t align-top">
                {row.map((value, column) => (
                  <td
                    // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional, like the columns
                    key={column}
                    className="max-w-72 truncate px-3 py-1 font-mono"
                    title={value ?? "NULL"}
                  >
                    {value === null ? <span className="text-muted-foreground italic">NULL</span> : value}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="flex items-center gap-2 px-3 pb-2 text-muted-foreground text-xs">
        <span className="tabular-nums">
          Rows {(offset + 1).toLocaleString("en")}–{(offset + rows.length).toLocaleString("en")} of{" "}
          {total.toLocaleString("en")}
        </span>
        <div className="ml-auto flex gap-1">
          <Button
            size="icon-sm"
            variant="ghost"
            aria-label="Previous rows"
            disabled={page <= 1}
            onClick={() => setPage((n) => Math.max(1, n - 1))}
          >
            <ChevronLeftIcon />
          </Button>
          <Button
            size="icon-sm"
            variant="ghost"
            aria-label="Next rows"
            disabled={page >= last}
            onClick={() => setPage((n) => Math.min(last, n + 1))}
          >
            <ChevronRightIcon />
          </Button>
        </div>
      </div>
    </div>
  );
}
