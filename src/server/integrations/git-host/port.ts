/**
 * GitHost: where a project's code lives. Sandboxes never hold a git credential: they receive the files of a commit
 * and hand back a git bundle; the platform turns the bundle's final tree into a commit on the real repository.
 * Every method is idempotent where its name allows (creating what exists returns it; deleting what is gone is ok).
 */

export type GitHostKind = "github" | "local";

export type RepoRef = {
  host: GitHostKind;
  /** "owner/name" on GitHub; the repository's directory name for local. */
  fullName: string;
  /** Where a person looks at it (GitHub page, or the bare repo path for local). */
  webUrl: string;
  defaultBranch: string;
};

export type CreateRepoInput = {
  /** Repository name: lowercase letters, digits, "-" (the caller slugifies). */
  name: string;
  description?: string;
  /** A directory whose files become the first commit (the app template). Ignored files are not committed. */
  templateDir: string;
  /** GitHub: create under this organisation instead of the token's user. */
  owner?: string;
};

export type CommitAuthor = { name: string; email: string };

export type CommitFromBundleInput = {
  /** The branch to move to the new commit (created when missing). */
  branch: string;
  /** The commit the sandbox started from; the new commit's parent. */
  parentSha: string;
  /** A git bundle written by the sandbox (`git bundle create out.bundle --all`); its HEAD holds the final files. */
  bundlePath: string;
  message: string;
  author: CommitAuthor;
};

export type CommitTreeInput = Omit<CommitFromBundleInput, "bundlePath"> & {
  /** A commit already in the repository whose files the new commit takes, exactly. */
  treeOfSha: string;
};

export interface GitHost {
  readonly kind: GitHostKind;
  /**
   * Whether deleting a project deletes its repository: a local one is Kiln's own, a GitHub one belongs to the
   * operator and stays.
   */
  readonly ownsRepos: boolean;
  /** Creates the repository with the template as its first commit on `defaultBranch`; returns it and that sha. */
  createRepo(input: CreateRepoInput): Promise<{ repo: RepoRef; initialSha: string }>;
  deleteRepo(repo: RepoRef): Promise<void>;
  listBranches(repo: RepoRef): Promise<Array<{ name: string; sha: string }>>;
  /** Creates `name` at `sha`; succeeds if it already points there, conflicts if it points elsewhere. */
  createBranch(repo: RepoRef, name: string, sha: string): Promise<void>;
  /** A branch name, tag or sha → the full commit sha, or null when it does not exist. */
  resolveRef(repo: RepoRef, ref: string): Promise<string | null>;
  /** Writes the files of commit `sha` into `destDir` (which must be empty or missing). No .git is created. */
  exportTree(repo: RepoRef, sha: string, destDir: string): Promise<void>;
  /**
   * Makes a commit on `branch` whose parent is `parentSha` and whose files are the bundle HEAD's tree. The branch
   * must point at `parentSha` (or not exist yet); otherwise a "conflict" ProviderError, and nothing changes.
   */
  commitFromBundle(repo: RepoRef, input: CommitFromBundleInput): Promise<{ sha: string }>;
  /**
   * Makes a commit on `branch` (which must point at `parentSha`) whose files are those of an earlier commit: how a
   * restore brings old code back on top of the history instead of rewriting it. Same conflict rule as above.
   */
  commitTree(repo: RepoRef, input: CommitTreeInput): Promise<{ sha: string }>;
}
