import type { GitCli } from "./git-cli";

/** Readers of git objects in a local repository, parsing git's NUL-separated plumbing output. */

export type TreeEntryType = "blob" | "tree" | "commit";

export type TreeEntry = { mode: string; type: TreeEntryType; sha: string; path: string };

export type TreeChange =
  | { kind: "upsert"; path: string; mode: string; type: TreeEntryType; sha: string }
  | { kind: "delete"; path: string; mode: string };

const entryTypes = new Set<string>(["blob", "tree", "commit"]);

function isEntryType(value: string): value is TreeEntryType {
  return entryTypes.has(value);
}

function splitNul(output: Buffer): string[] {
  const parts = output.toString("utf8").split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

/** Every file, symlink and submodule of a commit or tree, recursively, with paths from its root. */
export async function listTree(git: GitCli, gitDir: string, treeish: string): Promise<TreeEntry[]> {
  const output = await git.run(["ls-tree", "-r", "-z", "--full-tree", treeish], { gitDir });
  return splitNul(output).map((record) => {
    const match = /^(\d{6}) (\w+) ([0-9a-f]{40,64})\t([\s\S]+)$/.exec(record);
    const type = match?.[2];
    if (!match?.[1] || !type || !isEntryType(type) || !match[3] || match[4] === undefined)
      throw new Error(`unexpected ls-tree output: ${JSON.stringify(record.slice(0, 200))}`);
    return { mode: match[1], type, sha: match[3], path: match[4] };
  });
}

function typeOfMode(mode: string): TreeEntryType {
  if (mode === "160000") return "commit";
  if (mode === "040000") return "tree";
  return "blob";
}

/** What changed from tree `from` to tree `to`, file by file (renames appear as a delete and an add). */
export async function diffTrees(
  git: GitCli,
  gitDir: string,
  from: string,
  to: string,
): Promise<TreeChange[]> {
  const output = await git.run(["diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev", from, to], {
    gitDir,
  });
  const parts = splitNul(output);
  const changes: TreeChange[] = [];
  for (let index = 0; index + 1 < parts.length; index += 2) {
    const header = parts[index] ?? "";
    const path = parts[index + 1] ?? "";
    const match = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])\d*$/.exec(header);
    if (!match?.[1] || !match[2] || !match[4] || !match[5])
      throw new Error(`unexpected diff-tree output: ${JSON.stringify(header)}`);
    const [oldMode, newMode, newSha, status] = [match[1], match[2], match[4], match[5]];
    if (status === "D") changes.push({ kind: "delete", path, mode: oldMode });
    else changes.push({ kind: "upsert", path, mode: newMode, type: typeOfMode(newMode), sha: newSha });
  }
  return changes;
}

/** The contents of blobs by sha, read in one `git cat-file --batch`. */
export async function readBlobs(
  git: GitCli,
  gitDir: string,
  shas: ReadonlyArray<string>,
  maxTotalBytes: number,
): Promise<Map<string, Buffer>> {
  const unique = [...new Set(shas)];
  const blobs = new Map<string, Buffer>();
  if (unique.length === 0) return blobs;
  const output = await git.run(["cat-file", "--batch"], {
    gitDir,
    input: `${unique.join("\n")}\n`,
    maxOutputBytes: maxTotalBytes + unique.length * 100,
  });
  let offset = 0;
  for (const sha of unique) {
    const newline = output.indexOf(0x0a, offset);
    if (newline < 0) throw new Error("cat-file output ended early");
    const header = output.subarray(offset, newline).toString("utf8");
    const match = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!match?.[3] || match[1] !== sha || match[2] !== "blob")
      throw new Error(`object ${sha} is not a readable blob (${header})`);
    const size = Number(match[3]);
    const start = newline + 1;
    blobs.set(sha, output.subarray(start, start + size));
    offset = start + size + 1;
  }
  return blobs;
}

/** Resolves a revision to a full object id, or null when it does not exist. */
export async function revParse(git: GitCli, gitDir: string, revision: string): Promise<string | null> {
  const { code, stdout } = await git.probe(["rev-parse", "--verify", "--quiet", revision], { gitDir });
  const sha = stdout.toString("utf8").trim();
  return code === 0 && /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
}

export type CommitInfo = {
  sha: string;
  tree: string;
  parents: string[];
  author: { name: string; email: string };
  message: string;
};

/** The tree, parents, author and message of a commit. */
export async function readCommit(git: GitCli, gitDir: string, sha: string): Promise<CommitInfo | null> {
  const { code, stdout } = await git.probe(["cat-file", "commit", sha], { gitDir });
  if (code !== 0) return null;
  const text = stdout.toString("utf8");
  const split = text.indexOf("\n\n");
  const headers = (split < 0 ? text : text.slice(0, split)).split("\n");
  const message = split < 0 ? "" : text.slice(split + 2);
  let tree = "";
  const parents: string[] = [];
  let author = { name: "", email: "" };
  for (const line of headers) {
    if (line.startsWith("tree ")) tree = line.slice(5);
    else if (line.startsWith("parent ")) parents.push(line.slice(7));
    else if (line.startsWith("author ")) {
      const match = /^author (.*) <([^>]*)> \d+ [+-]\d{4}$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) author = { name: match[1], email: match[2] };
    }
  }
  return { sha, tree, parents, author, message };
}
