import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ProviderError, type ProviderErrorKind } from "../provider-error";
import { defaultMaxBundleBytes, importBundle } from "./bundle";
import { toGitHostError } from "./errors";
import { emptyExportDir, prepareExportDir } from "./export-dir";
import { createGitCli, type GitCli } from "./git-cli";
import { readCommit, revParse } from "./git-objects";
import { commitInputProblem, isBranchName, isFullSha, isPlainRevision, isRepoName } from "./names";
import type {
  CommitAuthor,
  CommitFromBundleInput,
  CommitTreeInput,
  CreateRepoInput,
  GitHost,
  RepoRef,
} from "./port";
import { writeTemplateTree } from "./template";

/**
 * GitHost on this machine: one bare repository per project under `root` (`<root>/<name>.git`). Only git
 * plumbing touches them, in an isolated environment, and branch moves are compare-and-swap (`update-ref <new>
 * <old>`), so two writers can never overwrite each other's commits.
 */

export type LocalGitHostOptions = {
  /** The directory holding the bare repositories, e.g. `<dataDir>/git`. */
  root: string;
  /** Time limit of one git command (default 60 s). */
  timeoutMs?: number;
  /** The identity of commits the platform makes itself (initial commits; committer of sandbox commits). */
  committer?: CommitAuthor;
  /** The largest bundle a sandbox may hand back (default 200 MB). */
  maxBundleBytes?: number;
  /** The git executable (default "git" on the system PATH). */
  git?: string;
};

const defaultBranch = "main";
const initialMessage = "Initial commit from template\n";
// Archives must give back exactly the committed bytes, whatever .gitattributes the app carries: no export-ignore,
// no keyword substitution, no line-ending or filter conversion. info/attributes outranks in-tree attributes.
const exportAttributes = "* -export-ignore -export-subst -text -eol -filter -ident -working-tree-encoding\n";

export function createLocalGitHost(options: LocalGitHostOptions): GitHost {
  const root = path.resolve(options.root);
  const git = createGitCli({ git: options.git, timeoutMs: options.timeoutMs, committer: options.committer });
  const maxBundleBytes = options.maxBundleBytes ?? defaultMaxBundleBytes;

  function repoRef(name: string): RepoRef {
    return { host: "local", fullName: name, webUrl: repoPath(name), defaultBranch };
  }

  function repoPath(name: string): string {
    return path.join(root, `${name}.git`);
  }

  /** The repository directory of a RepoRef, from its validated name only (never from its webUrl). */
  function dirOf(repo: RepoRef): string {
    if (repo.host !== "local")
      throw localGitError(
        "invalid",
        `The repository ${repo.fullName} is on ${repo.host}, not on this machine.`,
      );
    if (!isRepoName(repo.fullName))
      throw localGitError(
        "invalid",
        `${JSON.stringify(repo.fullName)} is not a valid local repository name.`,
      );
    return repoPath(repo.fullName);
  }

  async function existingRepoDir(repo: RepoRef): Promise<string> {
    const dir = dirOf(repo);
    if (!(await isBareRepo(git, dir))) {
      throw localGitError(
        "not_found",
        `There is no repository ${repo.fullName} in ${root}: it was deleted or the data directory moved.`,
      );
    }
    return dir;
  }

  async function run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toGitHostError(error, "local-git", action);
    }
  }

  async function commitTemplate(gitDir: string, templateDir: string): Promise<string> {
    const tree = await writeTemplateTree(git, gitDir, templateDir);
    const sha = (await git.run(["commit-tree", tree, "-F", "-"], { gitDir, input: initialMessage }))
      .toString("utf8")
      .trim();
    // The empty old value makes this a create-only update: a concurrent creator's commit is never replaced.
    const { code } = await git.probe(["update-ref", `refs/heads/${defaultBranch}`, sha, ""], { gitDir });
    if (code === 0) return sha;
    const current = await revParse(git, gitDir, `refs/heads/${defaultBranch}`);
    if (!current) throw localGitError("internal", `Could not create branch ${defaultBranch} in ${gitDir}.`);
    return current;
  }

  async function initRepo(dir: string): Promise<void> {
    await git.run(["init", "--bare", "--quiet", "--template=", `--initial-branch=${defaultBranch}`, dir]);
    await mkdir(path.join(dir, "info"), { recursive: true });
    await writeFile(path.join(dir, "info", "attributes"), exportAttributes);
  }

  async function createRepo(input: CreateRepoInput): Promise<{ repo: RepoRef; initialSha: string }> {
    if (!isRepoName(input.name)) {
      throw localGitError(
        "invalid",
        `${JSON.stringify(input.name)} is not a valid repository name: use 1-100 lowercase letters, digits and "-", starting with a letter or digit.`,
      );
    }
    const dir = repoPath(input.name);
    return run(`creating repository ${input.name}`, async () => {
      if (await pathExists(dir))
        return { repo: repoRef(input.name), initialSha: await finishExisting(dir, input) };
      await mkdir(root, { recursive: true });
      // Built under a temporary name and renamed into place, so nobody ever sees a half-made repository.
      const staging = await mkdtemp(path.join(root, ".creating-"));
      try {
        await initRepo(staging);
        const initialSha = await commitTemplate(staging, input.templateDir);
        const placed = await rename(staging, dir).then(
          () => true,
          (error: unknown) => {
            if (errorCode(error) === "EEXIST" || errorCode(error) === "ENOTEMPTY") return false;
            throw error;
          },
        );
        if (placed) return { repo: repoRef(input.name), initialSha };
        return { repo: repoRef(input.name), initialSha: await finishExisting(dir, input) };
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });
  }

  /** A repository that already exists: its default branch, or (after an interrupted create) the template commit. */
  async function finishExisting(dir: string, input: CreateRepoInput): Promise<string> {
    if (!(await isBareRepo(git, dir))) {
      throw localGitError(
        "conflict",
        `${dir} exists but is not a git repository: move it away or pick another project name.`,
      );
    }
    const sha = await revParse(git, dir, `refs/heads/${defaultBranch}^{commit}`);
    return sha ?? commitTemplate(dir, input.templateDir);
  }

  async function deleteRepo(repo: RepoRef): Promise<void> {
    const dir = dirOf(repo);
    await run(`deleting repository ${repo.fullName}`, async () => {
      if (!(await pathExists(dir))) return;
      // Renamed away first so a reader never meets a half-deleted repository.
      const doomed = path.join(root, `.deleting-${randomUUID()}`);
      await rename(dir, doomed).catch((error: unknown) => {
        if (errorCode(error) === "ENOENT") return;
        throw error;
      });
      await rm(doomed, { recursive: true, force: true });
    });
  }

  async function listBranches(repo: RepoRef): Promise<Array<{ name: string; sha: string }>> {
    return run(`listing the branches of ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      const output = await git.run(
        ["for-each-ref", "--format=%(objectname) %(refname:strip=2)", "--sort=refname", "refs/heads/"],
        { gitDir: dir },
      );
      return output
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const space = line.indexOf(" ");
          return { sha: line.slice(0, space), name: line.slice(space + 1) };
        });
    });
  }

  async function createBranch(repo: RepoRef, name: string, sha: string): Promise<void> {
    await run(`creating branch ${name} in ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      await assertBranchName(git, name);
      if (!isFullSha(sha)) throw localGitError("invalid", `${JSON.stringify(sha)} is not a full commit sha.`);
      if (!(await revParse(git, dir, `${sha}^{commit}`)))
        throw localGitError("not_found", `Commit ${sha} is not in repository ${repo.fullName}.`);
      const { code } = await git.probe(["update-ref", `refs/heads/${name}`, sha, ""], { gitDir: dir });
      if (code === 0) return;
      const current = await revParse(git, dir, `refs/heads/${name}`);
      if (current === sha) return;
      throw localGitError(
        "conflict",
        current
          ? `Branch ${name} already exists in ${repo.fullName} at ${current.slice(0, 12)}, not at ${sha.slice(0, 12)}.`
          : `Branch ${name} cannot be created in ${repo.fullName}: it clashes with an existing branch name.`,
      );
    });
  }

  async function resolveRef(repo: RepoRef, ref: string): Promise<string | null> {
    return run(`resolving ${ref} in ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      assertRevision(ref);
      return revParse(git, dir, `${ref}^{commit}`);
    });
  }

  async function exportTree(repo: RepoRef, sha: string, destDir: string): Promise<void> {
    await run(`exporting ${sha} of ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      assertRevision(sha);
      const commit = await revParse(git, dir, `${sha}^{commit}`);
      if (!commit) throw localGitError("not_found", `Commit ${sha} is not in repository ${repo.fullName}.`);
      const dest = await prepareExportDir(destDir);
      // Repositories made before the attributes override existed get it too.
      await mkdir(path.join(dir, "info"), { recursive: true });
      await writeFile(path.join(dir, "info", "attributes"), exportAttributes);
      try {
        await git.pipeToTar(
          ["archive", "--format=tar", commit],
          ["-x", "-f", "-", "-C", dest, "--no-same-owner", "--no-same-permissions"],
          { gitDir: dir, timeoutMs: 300_000 },
        );
      } catch (error) {
        await emptyExportDir(dest);
        throw error;
      }
    });
  }

  async function commitFromBundle(repo: RepoRef, input: CommitFromBundleInput): Promise<{ sha: string }> {
    return run(`committing the sandbox's bundle to ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      const problem = await commitInputProblem(git, input);
      if (problem) throw localGitError("invalid", problem);
      if (!(await revParse(git, dir, `${input.parentSha}^{commit}`))) {
        throw localGitError("not_found", `The parent commit ${input.parentSha} is not in ${repo.fullName}.`);
      }
      const quarantineRef = `refs/kiln-quarantine/${randomUUID()}`;
      try {
        const snapshot = await importBundle(git, {
          gitDir: dir,
          bundlePath: input.bundlePath,
          quarantineRef,
          maxBytes: maxBundleBytes,
        });
        const branchRef = `refs/heads/${input.branch}`;
        const current = await revParse(git, dir, branchRef);
        if (current && current !== input.parentSha) {
          if (await isSameCommit(git, dir, current, input, snapshot.headTree)) return { sha: current };
          throw movedBranch(repo, input, current);
        }
        const sha = (
          await git.run(["commit-tree", snapshot.headTree, "-p", input.parentSha, "-F", "-"], {
            gitDir: dir,
            input: input.message,
            env: { GIT_AUTHOR_NAME: input.author.name, GIT_AUTHOR_EMAIL: input.author.email },
          })
        )
          .toString("utf8")
          .trim();
        const { code } = await git.probe(
          ["update-ref", "-m", "kiln: commit from sandbox", branchRef, sha, current ?? ""],
          { gitDir: dir },
        );
        if (code !== 0) {
          const now = await revParse(git, dir, branchRef);
          // A concurrent attempt at the same commit got there first: that is this commit, made once.
          if (now && (await isSameCommit(git, dir, now, input, snapshot.headTree))) return { sha: now };
          throw movedBranch(repo, input, now);
        }
        return { sha };
      } finally {
        await git.probe(["update-ref", "-d", quarantineRef], { gitDir: dir });
      }
    });
  }

  async function commitTree(repo: RepoRef, input: CommitTreeInput): Promise<{ sha: string }> {
    return run(`committing the files of ${input.treeOfSha.slice(0, 12)} to ${repo.fullName}`, async () => {
      const dir = await existingRepoDir(repo);
      await assertBranchName(git, input.branch);
      const tree = await revParse(git, dir, `${input.treeOfSha}^{tree}`);
      if (!tree)
        throw localGitError("not_found", `The commit ${input.treeOfSha} is not in ${repo.fullName}.`);
      if (!(await revParse(git, dir, `${input.parentSha}^{commit}`))) {
        throw localGitError("not_found", `The parent commit ${input.parentSha} is not in ${repo.fullName}.`);
      }
      const branchRef = `refs/heads/${input.branch}`;
      const current = await revParse(git, dir, branchRef);
      if (current && current !== input.parentSha) {
        if (await isSameCommit(git, dir, current, input, tree)) return { sha: current };
        throw movedBranch(repo, input, current);
      }
      const sha = (
        await git.run(["commit-tree", tree, "-p", input.parentSha, "-F", "-"], {
          gitDir: dir,
          input: input.message,
          env: { GIT_AUTHOR_NAME: input.author.name, GIT_AUTHOR_EMAIL: input.author.email },
        })
      )
        .toString("utf8")
        .trim();
      const { code } = await git.probe(["update-ref", "-m", "kiln: restore", branchRef, sha, current ?? ""], {
        gitDir: dir,
      });
      if (code === 0) return { sha };
      const now = await revParse(git, dir, branchRef);
      if (now && (await isSameCommit(git, dir, now, input, tree))) return { sha: now };
      throw movedBranch(repo, input, now);
    });
  }

  return {
    kind: "local",
    ownsRepos: true,
    createRepo,
    deleteRepo,
    listBranches,
    createBranch,
    resolveRef,
    exportTree,
    commitFromBundle,
    commitTree,
  };
}

function localGitError(kind: ProviderErrorKind, message: string): ProviderError {
  return new ProviderError("local-git", kind, message);
}

function movedBranch(
  repo: RepoRef,
  input: Pick<CommitFromBundleInput, "branch" | "parentSha">,
  current: string | null,
): ProviderError {
  const where = current ? `now points at ${current.slice(0, 12)}` : "was deleted";
  return localGitError(
    "conflict",
    `Branch ${input.branch} of ${repo.fullName} ${where}, not at ${input.parentSha.slice(0, 12)} where the sandbox started: nothing was committed. Start a new revision from the branch's current commit.`,
  );
}

/** A retry of a commit that already landed: same parent, files, message and author. */
async function isSameCommit(
  git: GitCli,
  gitDir: string,
  sha: string,
  input: Pick<CommitFromBundleInput, "parentSha" | "message" | "author">,
  tree: string,
): Promise<boolean> {
  const commit = await readCommit(git, gitDir, sha);
  return (
    commit !== null &&
    commit.tree === tree &&
    commit.parents.length === 1 &&
    commit.parents[0] === input.parentSha &&
    commit.message === input.message &&
    commit.author.name === input.author.name &&
    commit.author.email === input.author.email
  );
}

async function assertBranchName(git: GitCli, name: string): Promise<void> {
  if (!(await isBranchName(git, name)))
    throw localGitError("invalid", `${JSON.stringify(name)} is not a valid branch name.`);
}

function assertRevision(ref: string): void {
  if (!isPlainRevision(ref))
    throw localGitError("invalid", `${JSON.stringify(ref)} is not a branch name, tag or commit sha.`);
}

async function isBareRepo(git: GitCli, dir: string): Promise<boolean> {
  if (!(await pathExists(dir))) return false;
  const { code, stdout } = await git.probe(["rev-parse", "--is-bare-repository"], { gitDir: dir });
  return code === 0 && stdout.toString("utf8").trim() === "true";
}

async function pathExists(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    (error: unknown) => {
      if (errorCode(error) === "ENOENT") return false;
      throw error;
    },
  );
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
