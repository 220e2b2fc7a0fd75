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
