"use client";

import { ChevronRight, File, Folder } from "lucide-react";
import { useSearchParams } from "next/navigation";
import { useCallback, useMemo, useState } from "react";
import { checkpointFileContentSchema, checkpointFilesSchema } from "@/components/code/code-schemas";
import { CodeTokens } from "@/components/code/code-tokens";
import { Spinner } from "@/components/ui/spinner";
import { buildFileTree, type FileTreeNode, foldersOf, initialFile } from "@/lib/file-tree";
import { cn } from "@/lib/utils";
import type { CheckpointFile, CheckpointFileContent } from "@/server/revisions/revision-files-types";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { useRevisionJson } from "./use-revision-json";

// The Code tab: the files of the shown checkpoint's commit as a tree, and the chosen one highlighted (on the
// server) with line numbers. The chosen path lives in the URL (`?file=`), so a link opens the same file.

const changeLabel = { added: "A", modified: "M", renamed: "R" } as const;
const isChanged = (file: CheckpointFile) => file.change !== null;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
}

/** The `?file=` search parameter, written without a navigation (Next.js keeps useSearchParams in step). */
function useFileParam(): [string | null, (path: string) => void] {
  const params = useSearchParams();
  const set = useCallback((path: string) => {
    const url = new URL(window.location.href);
    url.searchParams.set("file", path);
    window.history.replaceState(null, "", url);
  }, []);
  return [params.get("file"), set];
}

export function CodeView({ revision }: { revision: RevisionDto | null }) {
  const ready = Boolean(revision?.commitSha);
  const listing = useRevisionJson(
    revision?.id ?? null,
    { path: "files", key: "files" },
    ready,
    checkpointFilesSchema,
  );
  const [requested, setRequested] = useFileParam();
  const files = listing.state === "ready" ? listing.data.files : [];
  const selected = useMemo(() => initialFile(files, requested, isChanged), [files, requested]);

  if (!revision || !ready)
    return (
      <p className="p-3 text-muted-foreground text-sm">The code appears once this checkpoint is committed.</p>
    );
  if (listing.state === "loading") return <Spinner className="m-3" label="Reading the checkpoint's files" />;
  if (listing.state === "error") return <p className="p-3 text-destructive text-sm">{listing.message}</p>;
  if (files.length === 0)
    return <p className="p-3 text-muted-foreground text-sm">This commit has no files.</p>;
  return (
    <div className="flex min-h-0 flex-1 flex-col md:flex-row">
      <nav aria-label="Files" className="hidden w-60 shrink-0 overflow-auto border-r py-2 text-sm md:block">
        <FileTree key={revision.id} files={files} selected={selected} onSelect={setRequested} />
        {listing.data.truncated ? (
          <p className="px-3 pt-2 text-muted-foreground text-xs">More files than can be listed.</p>
        ) : null}
      </nav>
      <div className="shrink-0 border-b p-2 md:hidden">
        <label className="sr-only" htmlFor="code-file">
          File
        </label>
        <select
          id="code-file"
          className="w-full rounded-md border bg-background px-2 py-1.5 font-mono text-xs"
          value={selected ?? ""}
          onChange={(event) => setRequested(event.target.value)}
        >
          {files.map((file) => (
            <option key={file.path} value={file.path}>
              {file.change ? `${changeLabel[file.change]} ` : "  "}
              {file.path}
            </option>
          ))}
        </select>
      </div>
      {selected ? (
        <FileViewer key={`${revision.id}:${selected}`} revisionId={revision.id} path={selected} />
      ) : null}
    </div>
  );
}

function FileTree({
  files,
  selected,
  onSelect,
}: {
  files: CheckpointFile[];
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const tree = useMemo(() => buildFileTree(files, isChanged), [files]);
  // The app's own code open, and the way down to the file shown.
  const [open, setOpen] = useState(() => new Set(["src", ...(selected ? foldersOf(selected) : [])]));
  const toggle = (path: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(path)) next.add(path);
      return next;
    });
  return (
    <ul>
      {tree.children.map((node) => (
        <TreeNode
          key={node.path}
          node={node}
          depth={0}
          open={open}
          toggle={toggle}
          selected={selected}
          onSelect={onSelect}
        />
      ))}
    </ul>
  );
}

function TreeNode({
  node,
  depth,
  open,
  toggle,
  selected,
  onSelect,
}: {
  node: FileTreeNode<CheckpointFile>;
  depth: number;
  open: Set<string>;
  toggle: (path: string) => void;
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const indent = { paddingLeft: `${0.5 + depth * 0.75}rem` };
  if (node.kind === "file") {
    const change = node.file.change;
    return (
      <li>
        <button
          type="button"
          onClick={() => onSelect(node.path)}
          style={indent}
          aria-current={node.path === selected ? "true" : undefined}
          className={cn(
            "flex w-full items-center gap-1.5 py-0.5 pr-2 text-left hover:bg-muted",
            node.path === selected && "bg-muted font-medium",
          )}
        >
          <File className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
          <span className={cn("min-w-0 flex-1 truncate", change && "text-amber-700 dark:text-amber-400")}>
            {node.name}
          </span>
          {change ? (
            <span
              className="shrink-0 font-mono text-[10px] text-amber-700 dark:text-amber-400"
              title={`${change} by this checkpoint`}
            >
              {changeLabel[change]}
              <span className="sr-only"> ({change} by this checkpoint)</span>
            </span>
          ) : null}
        </button>
      </li>
    );
  }
  const isOpen = open.has(node.path);
  return (
    <li>
      <button
        type="button"
        onClick={() => toggle(node.path)}
        aria-expanded={isOpen}
        style={indent}
        className="flex w-full items-center gap-1 py-0.5 pr-2 text-left hover:bg-muted"
      >
        <ChevronRight
          className={cn("size-3.5 shrink-0 transition-transform", isOpen && "rotate-90")}
          aria-hidden
        />
        <Folder className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
        <span className="min-w-0 flex-1 truncate">{node.name}</span>
        {node.changed > 0 ? (
          <>
            <span className="size-1.5 shrink-0 rounded-full bg-amber-500" aria-hidden />
            <span className="sr-only">({node.changed} changed)</span>
          </>
        ) : null}
      </button>
      {isOpen ? (
        <ul>
          {node.children.map((child) => (
            <TreeNode
              key={child.path}
              node={child}
              depth={depth + 1}
              open={open}
              toggle={toggle}
              selected={selected}
              onSelect={onSelect}
            />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function FileViewer({ revisionId, path }: { revisionId: string; path: string }) {
  const loaded = useRevisionJson(
    revisionId,
    { path: `files/content?path=${encodeURIComponent(path)}`, key: "file" },
    true,
    checkpointFileContentSchema,
  );
  return (
    <section aria-label={`File ${path}`} className="flex min-h-0 min-w-0 flex-1 flex-col">
      <header className="flex shrink-0 items-center gap-2 border-b px-3 py-1.5 text-xs">
        <h3 className="min-w-0 flex-1 truncate font-medium font-mono">{path}</h3>
        {loaded.state === "ready" ? (
          <span className="shrink-0 text-muted-foreground">
            {loaded.data.kind === "text" && loaded.data.language ? `${loaded.data.language} · ` : ""}
            {formatSize(loaded.data.size)}
          </span>
        ) : null}
      </header>
      <div className="min-h-0 flex-1 overflow-auto">
        {loaded.state === "loading" ? <Spinner className="m-3" label="Reading the file" /> : null}
        {loaded.state === "error" ? <p className="p-3 text-destructive text-sm">{loaded.message}</p> : null}
        {loaded.state === "ready" ? <FileBody file={loaded.data} /> : null}
      </div>
    </section>
  );
}

function FileBody({ file }: { file: CheckpointFileContent }) {
  if (file.kind === "binary")
    return (
      <p className="p-3 text-muted-foreground text-sm">Binary file, {formatSize(file.size)}: not shown.</p>
    );
  if (file.kind === "too_large")
    return (
      <p className="p-3 text-muted-foreground text-sm">
        This file is {formatSize(file.size)}: files over {formatSize(file.limitBytes)} are not shown here.
      </p>
    );
  if (file.kind === "symlink")
    return (
      <p className="p-3 text-muted-foreground text-sm">
        A symbolic link to <code className="font-mono">{file.target}</code> (not followed).
      </p>
    );
  const { lines, colors } = file.code;
  return (
    <pre className="min-w-max py-2 font-mono text-xs leading-5" data-language={file.language ?? "text"}>
      <code>
        {lines.map((tokens, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
          <div key={index} className="flex hover:bg-muted/60">
            <span className="sticky left-0 w-12 shrink-0 select-none bg-background pr-3 text-right text-muted-foreground/70">
              {index + 1}
            </span>
            <span className="whitespace-pre pr-4">
              {tokens.length > 0 ? <CodeTokens tokens={tokens} colors={colors} /> : " "}
            </span>
          </div>
        ))}
      </code>
    </pre>
  );
}
