/**
 * Reads the output of `git diff --no-index -- <oldRoot> <newRoot>` (run from the directory holding both trees)
 * into one entry per file, with paths relative to the trees, and bounds the patch text a response carries.
 * Pure: no I/O, so it is unit-tested against real git output (tests/unit/parse-git-diff.test.ts).
 */

export type DiffFileStatus = "added" | "modified" | "deleted" | "renamed";

export type DiffFile = {
  /** The file's path in the new tree; for a deleted file, its path in the old one. */
  path: string;
  /** Where a renamed file was before; null for every other status. */
  oldPath: string | null;
  status: DiffFileStatus;
  additions: number;
  deletions: number;
  binary: boolean;
  /**
   * The unified-diff hunks (from the first `@@` line, `\ No newline at end of file` markers included). Empty for a
   * binary file, a mode-only change, a lockfile, or one past the size caps (see capPatches).
   */
  patch: string;
};

export type GitDiffRoots = {
  /** The directory names the two trees were passed to git as, e.g. "base" and "head". */
  oldRoot: string;
  newRoot: string;
};

type FileBuilder = {
  headerOld: string | null;
  headerNew: string | null;
  minusPath: string | null;
  plusPath: string | null;
  renameFrom: string | null;
  renameTo: string | null;
  added: boolean;
  deleted: boolean;
  binary: boolean;
  additions: number;
  deletions: number;
  patchLines: string[];
};

const hunkHeader = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

const escapes: Record<string, number> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 34,
  "\\": 92,
};

/** A C-quoted name as git writes it (`"a/caf\303\251 x.txt"`) from index `start` (its opening quote). */
function readQuoted(text: string, start: number): { value: string; end: number } | null {
  const bytes: number[] = [];
  let i = start + 1;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '"') return { value: Buffer.from(bytes).toString("utf8"), end: i + 1 };
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      i += 1;
      continue;
    }
    const next = text[i + 1] ?? "";
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 4;
    } else if (next in escapes) {
      bytes.push(escapes[next] as number);
      i += 2;
    } else {
      return null;
    }
  }
  return null;
}

/** A name on a `---`, `+++`, `rename from/to` line: quoted or not; git appends a tab to names with spaces. */
function readName(text: string): string {
  if (text.startsWith('"')) {
    const quoted = readQuoted(text, 0);
    if (quoted) return quoted.value;
  }
  return text.endsWith("\t") ? text.slice(0, -1) : text;
}

function withoutPrefix(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

function relativeTo(roots: GitDiffRoots, name: string): string {
  for (const root of [roots.oldRoot, roots.newRoot]) {
    if (name.startsWith(`${root}/`)) return name.slice(root.length + 1);
  }
  return name;
}

/**
 * The two names of a `diff --git a/<old> b/<new>` line. Unquoted names with spaces are ambiguous; like git itself,
 * prefer the split where both sides name the same file (true for everything but renames, whose `rename from/to`
 * lines are authoritative anyway).
 */
function readHeaderNames(rest: string, roots: GitDiffRoots): { old: string; new: string } | null {
  if (rest.startsWith('"')) {
    const first = readQuoted(rest, 0);
    if (!first || rest[first.end] !== " ") return null;
    const secondText = rest.slice(first.end + 1);
    return { old: first.value, new: readName(secondText) };
  }
  const candidates: Array<{ old: string; new: string }> = [];
  for (let i = rest.indexOf(" "); i !== -1; i = rest.indexOf(" ", i + 1)) {
    const left = rest.slice(0, i);
    const right = rest.slice(i + 1);
    if (right.startsWith('"')) {
      const quoted = readQuoted(right, 0);
      if (quoted && quoted.end === right.length) return { old: left, new: quoted.value };
      continue;
    }
    if (right.startsWith("b/")) candidates.push({ old: left, new: right });
  }
  const same = candidates.find(
    (c) => relativeTo(roots, withoutPrefix(c.old, "a/")) === relativeTo(roots, withoutPrefix(c.new, "b/")),
  );
  return same ?? candidates[0] ?? null;
}

function newBuilder(names: { old: string; new: string } | null): FileBuilder {
  return {
    headerOld: names ? withoutPrefix(names.old, "a/") : null,
    headerNew: names ? withoutPrefix(names.new, "b/") : null,
    minusPath: null,
    plusPath: null,
    renameFrom: null,
    renameTo: null,
    added: false,
    deleted: false,
    binary: false,
    additions: 0,
    deletions: 0,
    patchLines: [],
  };
}

function finish(builder: FileBuilder, roots: GitDiffRoots): DiffFile | null {
  const oldName = builder.renameFrom ?? builder.minusPath ?? builder.headerOld;
  const newName = builder.renameTo ?? builder.plusPath ?? builder.headerNew;
  const status: DiffFileStatus = builder.added
    ? "added"
    : builder.deleted
      ? "deleted"
      : builder.renameFrom !== null
        ? "renamed"
        : "modified";
  const name = status === "deleted" ? oldName : newName;
  if (name === null) return null;
  return {
    path: relativeTo(roots, name),
    oldPath: status === "renamed" && oldName !== null ? relativeTo(roots, oldName) : null,
    status,
    additions: builder.additions,
    deletions: builder.deletions,
    binary: builder.binary,
    patch: builder.patchLines.length > 0 ? `${builder.patchLines.join("\n")}\n` : "",
  };
}

/**
 * One entry per file, in git's order. Hunk bodies are consumed by the line counts of their `@@` header, so content
 * lines that look like headers (`+++`, `--- `, `diff --git`) are never mistaken for them.
 */
export function parseGitDiff(output: string, roots: GitDiffRoots): DiffFile[] {
  const files: DiffFile[] = [];
  const lines = output.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let current: FileBuilder | null = null;
  let oldLeft = 0;
  let newLeft = 0;

  const close = () => {
    const file = current && finish(current, roots);
    if (file) files.push(file);
  };

  for (const line of lines) {
    if (current && (oldLeft > 0 || newLeft > 0)) {
      // An empty line is a context line whose leading space was lost (some tools strip trailing spaces).
      const mark = line[0] ?? " ";
      if (mark === " " || mark === "-" || mark === "+" || mark === "\\") {
        if (mark !== "+" && mark !== "\\") oldLeft -= 1;
        if (mark !== "-" && mark !== "\\") newLeft -= 1;
        if (mark === "-") current.deletions += 1;
        if (mark === "+") current.additions += 1;
        current.patchLines.push(line);
        continue;
      }
      // Not hunk content after all (the counts were wrong): read the line as a header.
      oldLeft = 0;
      newLeft = 0;
    }
    if (line.startsWith("diff --git ")) {
      close();
      current = newBuilder(readHeaderNames(line.slice("diff --git ".length), roots));
      continue;
    }
    if (!current) continue;
    const hunk = hunkHeader.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      current.patchLines.push(line);
      continue;
    }
    if (line.startsWith("\\") && current.patchLines.length > 0) {
      current.patchLines.push(line);
    } else if (line.startsWith("new file mode ")) {
      current.added = true;
    } else if (line.startsWith("deleted file mode ")) {
      current.deleted = true;
    } else if (line.startsWith("rename from ")) {
      current.renameFrom = readName(line.slice("rename from ".length));
    } else if (line.startsWith("rename to ")) {
      current.renameTo = readName(line.slice("rename to ".length));
    } else if (line.startsWith("--- ")) {
      const name = readName(line.slice(4));
      current.minusPath = name === "/dev/null" ? null : withoutPrefix(name, "a/");
    } else if (line.startsWith("+++ ")) {
      const name = readName(line.slice(4));
      current.plusPath = name === "/dev/null" ? null : withoutPrefix(name, "b/");
    } else if (line.startsWith("Binary files ") || line === "GIT binary patch") {
      current.binary = true;
    }
    // Anything else (index, old/new mode, similarity index) says nothing the response needs.
  }
  close();
  return files;
}

export type PatchLimits = {
  /** A file's patch beyond this many bytes keeps only its whole hunks that fit. */
  maxFileBytes: number;
  /** Once the patches so far reach this many bytes, later files (by path) carry none. */
  maxTotalBytes: number;
  /** Files listed with their counts but no patch (lockfiles: thousands of generated lines nobody reads). */
  omitPatch(path: string): boolean;
};

/** The leading whole hunks of `patch` that fit in `maxBytes` ("" when even the first does not). */
function wholeHunksWithin(patch: string, maxBytes: number): string {
  const hunks = patch.split(/\n(?=@@ )/);
  let kept = "";
  for (const [index, hunk] of hunks.entries()) {
    const piece = index < hunks.length - 1 ? `${hunk}\n` : hunk;
    if (Buffer.byteLength(kept) + Buffer.byteLength(piece) > maxBytes) break;
    kept += piece;
  }
  return kept;
}

function byPath(a: DiffFile, b: DiffFile): number {
  if (a.path === b.path) return 0;
  return a.path < b.path ? -1 : 1;
}

/** Files sorted by path with their patches bounded; `truncated` says some patch text was left out by a cap. */
export function capPatches(
  files: ReadonlyArray<DiffFile>,
  limits: PatchLimits,
): { files: DiffFile[]; truncated: boolean } {
  let total = 0;
  let truncated = false;
  const capped = [...files].sort(byPath).map((file) => {
    if (file.patch === "") return file;
    if (limits.omitPatch(file.path)) return { ...file, patch: "" };
    let patch = file.patch;
    if (Buffer.byteLength(patch) > limits.maxFileBytes) {
      patch = wholeHunksWithin(patch, limits.maxFileBytes);
      truncated = true;
    }
    const size = Buffer.byteLength(patch);
    if (total + size > limits.maxTotalBytes) {
      truncated = true;
      return { ...file, patch: "" };
    }
    total += size;
    return { ...file, patch };
  });
  return { files: capped, truncated };
}
