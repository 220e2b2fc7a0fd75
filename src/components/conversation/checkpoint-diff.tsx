"use client";

import { useEffect, useState } from "react";
import { z } from "zod";
import { highlightedPatchSchema } from "@/components/code/code-schemas";
import { CodeTokens } from "@/components/code/code-tokens";
import { Spinner } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";
import type { HighlightedDiff, HighlightedPatch } from "@/server/revisions/revision-diff-types";
import { LazyDetails } from "./conversation";

// What a checkpoint changed, loaded when opened (a diff can be large, and most viewers never look).

/** What the diff routes answer (operator `/api/v1/revisions/:id/diff`, public `/s/:slug/checkpoints/:n/diff`). */
const diffSchema = z.object({
  diff: z.object({
    files: z.array(
      z.object({
        path: z.string(),
        oldPath: z.string().nullable(),
        status: z.enum(["added", "modified", "deleted", "renamed"]),
        additions: z.number(),
        deletions: z.number(),
        binary: z.boolean(),
        patch: z.string(),
        highlight: highlightedPatchSchema.nullable(),
      }),
    ),
    truncated: z.boolean(),
  }),
}) satisfies z.ZodType<{ diff: Pick<HighlightedDiff, "files" | "truncated"> }>;
type Diff = z.infer<typeof diffSchema>["diff"];
const errorSchema = z.object({ error: z.object({ message: z.string() }) });

function lineClass(line: string): string | undefined {
  if (line.startsWith("+")) return "bg-success/10 text-success";
  if (line.startsWith("-")) return "bg-destructive/10 text-destructive";
  if (line.startsWith("@@")) return "text-muted-foreground";
  return undefined;
}

/** The patch's lines, added and removed ones on their backgrounds; coloured by the server when it could. */
function Patch({ patch, highlight }: { patch: string; highlight: HighlightedPatch | null }) {
  return (
    <pre
      className="mt-1 max-h-96 overflow-auto rounded-md bg-muted py-1 font-mono text-xs"
      data-highlighted={highlight ? "true" : "false"}
    >
      {patch.split("\n").map((line, index) => {
        const tokens = highlight?.lines[index];
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
          <span key={index} className={cn("block px-2 whitespace-pre", lineClass(line))}>
            {tokens && highlight ? (
              <>
                <span className="select-none">{line[0]}</span>
                <CodeTokens tokens={tokens} colors={highlight.colors} />
              </>
            ) : (
              line || " "
            )}
          </span>
        );
      })}
    </pre>
  );
}

/** The files of a checkpoint's diff from `url` (`{ diff }`), each patch rendered when opened. */
export function DiffFiles({
  url,
  openFirst = 0,
}: {
  url: string /** Files shown open at first. */;
  openFirst?: number;
}) {
  const [state, setState] = useState<{ diff?: Diff; error?: string }>({});
  useEffect(() => {
    const controller = new AbortController();
    fetch(url, { signal: controller.signal })
      .then(async (response) => {
        const json: unknown = await response.json();
        const parsed = diffSchema.safeParse(json);
        if (response.ok && parsed.success) return setState({ diff: parsed.data.diff });
        const error = errorSchema.safeParse(json);
        setState({ error: error.success ? error.data.error.message : "The changes could not be loaded." });
      })
      .catch((error: unknown) => {
        // Closed before the answer came: nothing to show.
        if (controller.signal.aborted) return;
        setState({ error: error instanceof Error ? error.message : "The changes could not be loaded." });
      });
    return () => controller.abort();
  }, [url]);

  if (state.error) return <p className="mt-2 text-muted-foreground text-sm">{state.error}</p>;
  if (!state.diff) return <Spinner className="mt-2" label="Loading the changes" />;
  if (state.diff.files.length === 0)
    return <p className="mt-2 text-muted-foreground text-sm">No files changed.</p>;
  return (
    <div className="mt-2 grid grid-cols-1 gap-1">
      {state.diff.files.map((file, index) => (
        <LazyDetails
          key={file.path}
          defaultOpen={index < openFirst}
          className="rounded-md border px-2 py-1"
          summaryClassName="text-xs"
          summary={
            <>
              <span className="min-w-0 flex-1 truncate font-mono">
                {file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}
              </span>
              <span className="shrink-0 text-success tabular-nums">+{file.additions}</span>
              <span className="shrink-0 text-destructive tabular-nums">−{file.deletions}</span>
            </>
          }
        >
          {() =>
            file.patch ? (
              <Patch patch={file.patch} highlight={file.highlight} />
            ) : (
              <p className="mt-1 text-muted-foreground text-xs">
                {file.binary ? "Binary file." : "Not shown (a lockfile, or too large)."}
              </p>
            )
          }
        </LazyDetails>
      ))}
      {state.diff.truncated ? (
        <p className="text-muted-foreground text-xs">Some changes are too large to show here.</p>
      ) : null}
    </div>
  );
}

/** "Changes": the checkpoint's diff from `url` (`{ diff }`, as the diff routes answer), fetched when opened. */
export function CheckpointDiff({ url, className }: { url: string; className?: string }) {
  return (
    <LazyDetails className={className} summaryClassName="font-medium text-sm" summary="Changes">
      {() => <DiffFiles url={url} />}
    </LazyDetails>
  );
}
