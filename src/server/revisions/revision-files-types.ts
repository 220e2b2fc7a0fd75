import type { HighlightedCode } from "@/server/highlight/highlight-types";

// Client-safe: what the browser reads of a checkpoint's files (the workspace's Code tab).

export type CheckpointFileKind = "text" | "binary" | "symlink";

export type CheckpointFileChange = "added" | "modified" | "renamed";

export type CheckpointFile = {
  /** "/"-separated, relative to the repository's root. */
  path: string;
  size: number;
  kind: CheckpointFileKind;
  /** The grammar that colours it (e.g. "tsx"), or null for plain text. */
  language: string | null;
  /** What this checkpoint did to the file, or null when it is as it was before. */
  change: CheckpointFileChange | null;
};

export type CheckpointFiles = {
  headSha: string;
  /** Sorted by path. Dependency and build folders (node_modules, .next, …) are never listed. */
  files: CheckpointFile[];
  /** The tree has more files than the listing holds. */
  truncated: boolean;
};

export type CheckpointFileContent =
  | { path: string; size: number; kind: "text"; language: string | null; code: HighlightedCode }
  | { path: string; size: number; kind: "binary" }
  | { path: string; size: number; kind: "too_large"; limitBytes: number }
  | { path: string; size: number; kind: "symlink"; target: string };
