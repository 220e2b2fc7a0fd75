import { describe, expect, it } from "vitest";
import { capPatches, type DiffFile, parseGitDiff } from "@/server/revisions/parse-git-diff";

// Inputs are verbatim `git diff --no-index --no-color --find-renames -U3 -- base head` output (git 2.39), run from
// the directory holding the two exported trees "base" and "head".

const roots = { oldRoot: "base", newRoot: "head" };
const diff = (...lines: string[]) => `${lines.join("\n")}\n`;

describe("parseGitDiff", () => {
  it("reads an empty diff as no files", () => {
    expect(parseGitDiff("", roots)).toEqual([]);
  });

  it("reads an added file with its lines counted and the tree prefix stripped", () => {
    const files = parseGitDiff(
      diff(
        "diff --git a/head/src/new.ts b/head/src/new.ts",
        "new file mode 100644",
        "index 0000000..3e75765",
        "--- /dev/null",
        "+++ b/head/src/new.ts",
        "@@ -0,0 +1,2 @@",
        "+export const a = 1;",
        "+export const b = 2;",
      ),
      roots,
    );
    expect(files).toEqual([
      {
        path: "src/new.ts",
        oldPath: null,
        status: "added",
        additions: 2,
        deletions: 0,
        binary: false,
        patch: "@@ -0,0 +1,2 @@\n+export const a = 1;\n+export const b = 2;\n",
      },
    ]);
  });

  it("reads a deleted file under its old path", () => {
    const [file] = parseGitDiff(
      diff(
        "diff --git a/base/gone.txt b/base/gone.txt",
        "deleted file mode 100644",
        "index 286c5f5..0000000",
        "--- a/base/gone.txt",
        "+++ /dev/null",
        "@@ -1 +0,0 @@",
        "-gone",
      ),
      roots,
    );
    expect(file).toMatchObject({
      path: "gone.txt",
      oldPath: null,
      status: "deleted",
      additions: 0,
      deletions: 1,
    });
    expect(file?.patch).toBe("@@ -1 +0,0 @@\n-gone\n");
  });

  it("reads a renamed file with changes, and a pure rename with no patch", () => {
    const files = parseGitDiff(
      diff(
        "diff --git a/base/a.txt b/head/lib/a.txt",
        "similarity index 100%",
        "rename from base/a.txt",
        "rename to head/lib/a.txt",
        "diff --git a/base/old-name.txt b/head/new-name.txt",
        "similarity index 97%",
        "rename from base/old-name.txt",
        "rename to head/new-name.txt",
        "index 96cc558..1c5a36f 100644",
        "--- a/base/old-name.txt",
        "+++ b/head/new-name.txt",
        "@@ -48,3 +48,4 @@",
        " 48",
        " 49",
        " 50",
        "+51",
      ),
      roots,
    );
    expect(
      files.map(({ path, oldPath, status, additions, deletions }) => ({
        path,
        oldPath,
        status,
        additions,
        deletions,
      })),
    ).toEqual([
      { path: "lib/a.txt", oldPath: "a.txt", status: "renamed", additions: 0, deletions: 0 },
      { path: "new-name.txt", oldPath: "old-name.txt", status: "renamed", additions: 1, deletions: 0 },
    ]);
    expect(files[0]?.patch).toBe("");
    expect(files[1]?.patch).toBe("@@ -48,3 +48,4 @@\n 48\n 49\n 50\n+51\n");
  });

  it("marks binary files, changed or added, with no counts and no patch", () => {
    const files = parseGitDiff(
      diff(
        "diff --git a/base/bin.dat b/head/bin.dat",
        "index 8352675..1592e5c 100644",
        "Binary files a/base/bin.dat and b/head/bin.dat differ",
        "diff --git a/head/newbin.dat b/head/newbin.dat",
        "new file mode 100644",
        "index 0000000..00ffac9",
        "Binary files /dev/null and b/head/newbin.dat differ",
      ),
      roots,
    );
    expect(files).toEqual([
      {
        path: "bin.dat",
        oldPath: null,
        status: "modified",
        additions: 0,
        deletions: 0,
        binary: true,
        patch: "",
      },
      {
        path: "newbin.dat",
        oldPath: null,
        status: "added",
        additions: 0,
        deletions: 0,
        binary: true,
        patch: "",
      },
    ]);
  });

  it("keeps the no-newline-at-end marker in the patch without counting it", () => {
    const [file] = parseGitDiff(
      diff(
        "diff --git a/base/src/keep.txt b/head/src/keep.txt",
        "index de98044..f8f7a32 100644",
        "--- a/base/src/keep.txt",
        "+++ b/head/src/keep.txt",
        "@@ -1,3 +1,4 @@",
        " a",
        "-b",
        "+B",
        " c",
        "+d",
        "\\ No newline at end of file",
      ),
      roots,
    );
    expect(file).toMatchObject({ path: "src/keep.txt", status: "modified", additions: 2, deletions: 1 });
    expect(file?.patch).toBe("@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n\\ No newline at end of file\n");
  });

  it("reads on past a no-newline marker in the middle of a hunk", () => {
    const [file] = parseGitDiff(
      diff(
        "diff --git a/base/x.txt b/head/x.txt",
        "index 0a207c0..de98044 100644",
        "--- a/base/x.txt",
        "+++ b/head/x.txt",
        "@@ -1,2 +1,3 @@",
        " a",
        "-b",
        "\\ No newline at end of file",
        "+b",
        "+c",
      ),
      roots,
    );
    expect(file).toMatchObject({ path: "x.txt", additions: 2, deletions: 1 });
    expect(file?.patch).toBe("@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n");
  });

  it("never mistakes content lines that look like headers for headers", () => {
    const files = parseGitDiff(
      diff(
        "diff --git a/base/q.sql b/head/q.sql",
        "index 7d2e37d..1221a21 100644",
        "--- a/base/q.sql",
        "+++ b/head/q.sql",
        "@@ -1,2 +1,4 @@",
        "--- sql comment",
        "+++ x",
        "+--- y",
        " keep",
        "+diff --git a/x b/x",
      ),
      roots,
    );
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ path: "q.sql", status: "modified", additions: 3, deletions: 1 });
  });

  it("reads empty new files, mode-only changes, names with spaces and quoted non-ASCII names", () => {
    const files = parseGitDiff(
      diff(
        "diff --git a/head/empty.txt b/head/empty.txt",
        "new file mode 100644",
        "index 0000000..e69de29",
        "diff --git a/base/mode.sh b/head/mode.sh",
        "old mode 100644",
        "new mode 100755",
        "diff --git a/head/my file.txt b/head/my file.txt",
        "new file mode 100644",
        "index 0000000..587be6b",
        "--- /dev/null",
        "+++ b/head/my file.txt\t",
        "@@ -0,0 +1 @@",
        "+x",
        'diff --git "a/head/na\\303\\257ve.txt" "b/head/na\\303\\257ve.txt"',
        "new file mode 100644",
        "index 0000000..975fbec",
        "--- /dev/null",
        '+++ "b/head/na\\303\\257ve.txt"',
        "@@ -0,0 +1 @@",
        "+y",
      ),
      roots,
    );
    expect(files.map(({ path, status, additions }) => [path, status, additions])).toEqual([
      ["empty.txt", "added", 0],
      ["mode.sh", "modified", 0],
      ["my file.txt", "added", 1],
      ["naïve.txt", "added", 1],
    ]);
  });
});

describe("capPatches", () => {
  const file = (path: string, patch: string): DiffFile => ({
    path,
    oldPath: null,
    status: "modified",
    additions: 1,
    deletions: 1,
    binary: false,
    patch,
  });
  const hunk = (n: number) => `@@ -${n} +${n} @@\n-${"o".repeat(40)}\n+${"n".repeat(40)}\n`;
  const limits = {
    maxFileBytes: 1_000,
    maxTotalBytes: 10_000,
    omitPatch: (path: string) => path.endsWith("package-lock.json"),
  };

  it("sorts by path and leaves small patches alone", () => {
    const result = capPatches([file("src/b.ts", hunk(1)), file("README.md", hunk(2))], limits);
    expect(result.files.map((f) => f.path)).toEqual(["README.md", "src/b.ts"]);
    expect(result.files[1]?.patch).toBe(hunk(1));
    expect(result.truncated).toBe(false);
  });

  it("lists lockfiles with their counts but without a patch, which is not truncation", () => {
    const result = capPatches([file("package-lock.json", hunk(1))], limits);
    expect(result.files[0]).toMatchObject({ patch: "", additions: 1, deletions: 1 });
    expect(result.truncated).toBe(false);
  });

  it("keeps only the whole hunks of a patch that fit the per-file cap", () => {
    const big = Array.from({ length: 30 }, (_, i) => hunk(i + 1)).join("");
    const result = capPatches([file("big.ts", big)], limits);
    const patch = result.files[0]?.patch ?? "";
    expect(Buffer.byteLength(patch)).toBeLessThanOrEqual(1_000);
    expect(patch.length).toBeGreaterThan(0);
    expect(big.startsWith(patch)).toBe(true);
    expect(patch.endsWith("\n")).toBe(true);
    expect(result.truncated).toBe(true);
  });

  it("drops the patches of later files once the total cap is reached", () => {
    const medium = Array.from({ length: 8 }, (_, i) => hunk(i + 1)).join("");
    const files = Array.from({ length: 20 }, (_, i) => file(`f${String(i).padStart(2, "0")}.ts`, medium));
    const result = capPatches(files, limits);
    const kept = result.files.filter((f) => f.patch !== "");
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(20);
    expect(kept.map((f) => f.path)).toEqual(result.files.slice(0, kept.length).map((f) => f.path));
    expect(result.files.every((f) => f.additions === 1)).toBe(true);
    expect(result.truncated).toBe(true);
  });
});
