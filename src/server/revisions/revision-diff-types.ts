import type { HighlightedCode, HighlightedToken } from "@/server/highlight/highlight-types";
import type { DiffFile } from "./parse-git-diff";

// Client-safe: what the browser reads of a checkpoint's diff.

export type RevisionDiff = {
  /** The commit the checkpoint was built on; null for a checkpoint that predates recording it (then every file is "added"). */
  baseSha: string | null;
  headSha: string;
  /** Sorted by path. */
  files: DiffFile[];
  /** Some patch text was left out to keep the response bounded (the counts are always complete). */
  truncated: boolean;
};

/** A patch's lines coloured by the file's grammar: one entry per line of `patch.split("\n")`, null for hunk headers. */
export type HighlightedPatch = {
  colors: HighlightedCode["colors"];
  lines: Array<HighlightedToken[] | null>;
};

export type HighlightedDiff = Omit<RevisionDiff, "files"> & {
  /** `highlight` is null for a file shown plain (no patch, an unknown language, or past the highlighting caps). */
  files: Array<DiffFile & { highlight: HighlightedPatch | null }>;
};
