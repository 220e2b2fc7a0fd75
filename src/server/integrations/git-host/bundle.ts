import { lstat } from "node:fs/promises";
import path from "node:path";
import { type GitCli, GitCommandError } from "./git-cli";
import { listTree, readBlobs, revParse, type TreeEntry } from "./git-objects";

/**
 * Reading a sandbox's bundle safely. The bundle comes from code an AI model wrote, so it is untrusted: it is
 * size-capped, verified by git, fetched only into a quarantine ref, and its final tree is checked for paths and
 * symlinks that could reach outside a checkout (or into its .git) before any real branch can point at it.
 */

export const defaultMaxBundleBytes = 200 * 1024 * 1024;
const maxTreeEntries = 100_000;
const maxSymlinkHops = 40;
const maxSymlinkTarget = 4096;

/** A bundle the platform refuses; the message says why, for the operator. */
export class BundleRejectedError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "BundleRejectedError";
  }
}

export type BundleSnapshot = {
  /** The bundle's HEAD commit (in the sandbox's own history). */
  headSha: string;
  /** The tree of the bundle's HEAD: the files the platform commits. */
  headTree: string;
  /** The tree of the bundle's single root commit (the files the sandbox started from), if it has exactly one. */
  baseTree: string | null;
  baseSha: string | null;
  /** Every file of the HEAD tree, already validated. */
  entries: TreeEntry[];
};

async function checkFile(bundlePath: string, maxBytes: number): Promise<void> {
  const stats = await lstat(bundlePath).catch((error: unknown) => {
    throw new BundleRejectedError(`The bundle ${bundlePath} cannot be read (${codeOf(error)}).`, {
      cause: error,
    });
  });
  if (!stats.isFile()) throw new BundleRejectedError(`The bundle ${bundlePath} is not a regular file.`);
  if (stats.size === 0) throw new BundleRejectedError(`The bundle ${bundlePath} is empty.`);
  if (stats.size > maxBytes) {
    throw new BundleRejectedError(
      `The bundle is ${Math.ceil(stats.size / 1024 / 1024)} MB, over the ${Math.floor(maxBytes / 1024 / 1024)} MB limit: large generated or binary files probably belong in .gitignore.`,
    );
  }
}

function codeOf(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Fetches the bundle's HEAD into `quarantineRef` of `gitDir` and validates its tree. The caller deletes the ref.
 */
export async function importBundle(
  git: GitCli,
  input: { gitDir: string; bundlePath: string; quarantineRef: string; maxBytes: number },
): Promise<BundleSnapshot> {
  const { gitDir, bundlePath, quarantineRef } = input;
  await checkFile(bundlePath, input.maxBytes);
  const absolute = path.resolve(bundlePath);
  await gitStep("is not a valid git bundle", () =>
    git.run(["bundle", "verify", "--quiet", absolute], { gitDir }),
  );
  const heads = await gitStep("cannot be listed", () =>
    git.run(["bundle", "list-heads", absolute], { gitDir }),
  );
  if (!/^[0-9a-f]{40,64} HEAD$/m.test(heads.toString("utf8"))) {
    throw new BundleRejectedError(
      "The bundle has no HEAD: the sandbox must create it with `git bundle create out.bundle --all`.",
    );
  }
  await gitStep("could not be imported", () =>
    git.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", absolute, `+HEAD:${quarantineRef}`], {
      gitDir,
    }),
  );
  const headSha = await revParse(git, gitDir, `${quarantineRef}^{commit}`);
  const headTree = headSha ? await revParse(git, gitDir, `${headSha}^{tree}`) : null;
  if (!headSha || !headTree) throw new BundleRejectedError("The bundle's HEAD is not a commit.");
  const roots = (await git.run(["rev-list", "--max-parents=0", headSha], { gitDir }))
    .toString("utf8")
    .split("\n")
    .filter(Boolean);
  const baseSha = roots.length === 1 && roots[0] ? roots[0] : null;
  const baseTree = baseSha ? await revParse(git, gitDir, `${baseSha}^{tree}`) : null;
  const entries = await listTree(git, gitDir, headSha);
  await validateEntries(git, gitDir, entries, input.maxBytes);
  return { headSha, headTree, baseSha, baseTree, entries };
}

async function gitStep<T>(problem: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof GitCommandError && !error.timedOut) {
      throw new BundleRejectedError(`The bundle ${problem}: ${error.stderr || error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** A path component that git, a checkout or another OS would treat as the repository's own directory. */
function isForbiddenComponent(component: string): boolean {
  return (
    component === "" ||
    component === "." ||
    component === ".." ||
    /^\.git[. ]*$/i.test(component) ||
    /^git~\d+$/i.test(component)
  );
}

async function validateEntries(git: GitCli, gitDir: string, entries: TreeEntry[], maxBytes: number) {
  if (entries.length > maxTreeEntries) {
    throw new BundleRejectedError(
      `The bundle's files number ${entries.length}, over the limit of ${maxTreeEntries}: add generated folders to .gitignore.`,
    );
  }
  for (const entry of entries) {
    if (entry.path.startsWith("/") || entry.path.split("/").some(isForbiddenComponent)) {
      throw new BundleRejectedError(
        `The bundle contains the path ${JSON.stringify(entry.path)}, which could write outside the project or into its .git directory.`,
      );
    }
    if (!["100644", "100755", "120000", "160000"].includes(entry.mode)) {
      throw new BundleRejectedError(
        `The bundle contains ${JSON.stringify(entry.path)} with the unusual file mode ${entry.mode}.`,
      );
    }
  }
  const links = entries.filter((entry) => entry.mode === "120000");
  if (links.length === 0) return;
  const contents = await gitStep("has symlinks whose targets cannot be read (too long?)", () =>
    readBlobs(
      git,
      gitDir,
      links.map((link) => link.sha),
      Math.min(maxBytes, links.length * maxSymlinkTarget),
    ),
  );
  const targets = new Map<string, string>();
  for (const link of links) targets.set(link.path, contents.get(link.sha)?.toString("utf8") ?? "");
  for (const [linkPath, target] of targets) {
    if (
      target.length === 0 ||
      target.length > maxSymlinkTarget ||
      target.includes("\0") ||
      escapesTree(linkPath, targets)
    ) {
      throw new BundleRejectedError(
        `The bundle contains the symlink ${JSON.stringify(linkPath)} → ${JSON.stringify(target.slice(0, 200))}, which points outside the project.`,
      );
    }
  }
}

/**
 * Whether following the symlink at `linkPath` leaves the tree, resolving like the kernel would: component by
 * component, substituting the targets of symlinks met on the way (so `a -> ..` inside `sub/` is fine, but
 * `sub/b -> a/..` is not when `a` itself points up).
 */
export function escapesTree(linkPath: string, targets: ReadonlyMap<string, string>): boolean {
  const first = targets.get(linkPath);
  if (first === undefined) return false;
  if (first.startsWith("/")) return true;
  const stack = linkPath.split("/").slice(0, -1);
  const pending = first.split("/");
  let hops = 0;
  while (pending.length > 0) {
    const component = pending.shift();
    if (component === undefined || component === "" || component === ".") continue;
    if (component === "..") {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    stack.push(component);
    const target = targets.get(stack.join("/"));
    if (target === undefined) continue;
    hops += 1;
    if (hops > maxSymlinkHops || target.startsWith("/")) return true;
    stack.pop();
    pending.unshift(...target.split("/"));
  }
  return false;
}
