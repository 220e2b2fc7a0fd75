"use client";

import { Spinner } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";
import type { RevisionDto } from "@/server/revisions/revision-dto";
import { revisionDiffSchema } from "./revision-schemas";
import { useRevisionJson } from "./use-revision-json";

const statusMark = { added: "A", modified: "M", deleted: "D", renamed: "R" } as const;

function lineClass(line: string): string {
  if (line.startsWith("@@")) return "bg-muted text-muted-foreground";
  if (line.startsWith("+")) return "bg-success/10 text-success";
  if (line.startsWith("-")) return "bg-destructive/10 text-destructive";
  return "";
}

/** The files a checkpoint changed against the commit it was built on, each with its rendered patch. */
export function DiffView({ revision }: { revision: RevisionDto | null }) {
  const loaded = useRevisionJson(
    revision?.id ?? null,
    "diff",
    Boolean(revision?.commitSha),
    revisionDiffSchema,
  );
  if (!revision?.commitSha) {
    return (
      <p className="text-muted-foreground text-sm">The changes appear once this checkpoint is committed.</p>
    );
  }
  if (loaded.state === "loading") return <Spinner label="Loading the changes" />;
  if (loaded.state === "error") return <p className="text-destructive text-sm">{loaded.message}</p>;
  const { files, truncated, baseSha, headSha } = loaded.data;
  const added = files.reduce((sum, file) => sum + file.additions, 0);
  const removed = files.reduce((sum, file) => sum + file.deletions, 0);
  return (
    <div className="space-y-3">
      <p className="text-muted-foreground text-sm">
        {files.length} {files.length === 1 ? "file" : "files"} changed ·{" "}
        <span className="text-success">+{added}</span> <span className="text-destructive">−{removed}</span> ·{" "}
        <span className="font-mono">
          {baseSha?.slice(0, 7) ?? "empty"}…{headSha.slice(0, 7)}
        </span>
      </p>
      {files.length === 0 ? <p className="text-sm">No file changed in this checkpoint.</p> : null}
      {files.map((file, index) => (
        <details key={file.path} open={index < 8} className="overflow-hidden rounded-lg border">
          <summary className="flex cursor-pointer items-center gap-2 bg-muted/40 px-3 py-2 font-mono text-xs">
            <span className="w-4 shrink-0 font-semibold" aria-hidden>
              {statusMark[file.status]}
            </span>
            <span className="sr-only">{file.status}</span>
            <span className="min-w-0 flex-1 truncate">
              {file.oldPath ? `${file.oldPath} → ` : ""}
              {file.path}
            </span>
            <span className="shrink-0 text-success">+{file.additions}</span>
            <span className="shrink-0 text-destructive">−{file.deletions}</span>
          </summary>
          {file.binary ? (
            <p className="px-3 py-2 text-muted-foreground text-xs">Binary file.</p>
          ) : file.patch ? (
            <pre className="max-h-[32rem] overflow-auto text-xs leading-5">
              {file.patch.split("\n").map((line, n) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a patch's lines have no identity but their position
                <div key={n} className={cn("whitespace-pre px-3", lineClass(line))}>
                  {line || " "}
                </div>
              ))}
            </pre>
          ) : (
            <p className="px-3 py-2 text-muted-foreground text-xs">Not shown (a lockfile, or too large).</p>
          )}
        </details>
      ))}
      {truncated ? (
        <p className="text-muted-foreground text-xs">Some patches were too large to show.</p>
      ) : null}
    </div>
  );
}
