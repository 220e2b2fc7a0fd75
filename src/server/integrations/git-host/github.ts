import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ProviderError, type ProviderErrorKind, scrub } from "../provider-error";
import { type BundleSnapshot, defaultMaxBundleBytes, importBundle } from "./bundle";
import { toGitHostError } from "./errors";
import { emptyExportDir, prepareExportDir } from "./export-dir";
import { createGitCli } from "./git-cli";
import {
  diffTrees,
  listTree,
  readBlobs,
  type TreeChange,
  type TreeEntry,
  type TreeEntryType,
} from "./git-objects";
import { createGitHubApi } from "./github-api";
import { commitInputProblem, isBranchName, isFullSha, isPlainRevision, isRepoName } from "./names";
import type { CommitFromBundleInput, CommitTreeInput, CreateRepoInput, GitHost, RepoRef } from "./port";
import { extractTarball, saveStream } from "./tarball";
import { writeTemplateTree } from "./template";

/**
 * GitHost on GitHub through its REST API (@octokit/rest). Nothing is pushed with git: the platform reads the
 * sandbox's bundle locally and recreates its final tree on GitHub with the Git Data API (blobs → tree on top of the
 * parent's tree → commit → ref). Git object ids are content hashes, so the tree GitHub builds must have exactly the
 * sha of the bundle's tree; the branch only moves when it does. The token goes to GitHub's API and nowhere else.
 */

export type GitHubGitHostOptions = {
  /** A personal access token: fine-grained with Contents + Administration write, or classic with `repo`. */
  token: string;
  /** Default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3. */
  apiUrl?: string;
  /** The organisation new repositories go to (a CreateRepoInput.owner wins); the token's user when absent. */
  owner?: string;
  fetch?: typeof fetch;
  /** Time limit of one API call (default 20 s). */
  timeoutMs?: number;
  /** Time limit of one archive download (default 5 min). */
  transferTimeoutMs?: number;
  /** The largest bundle a sandbox may hand back (default 200 MB). */
  maxBundleBytes?: number;
  /** The largest archive exportTree accepts (default 1 GB). */
  maxArchiveBytes?: number;
  /** Where temporary repositories and archives go (default the OS temp dir). */
  scratchDir?: string;
  /** The git executable (default "git" on the system PATH). */
  git?: string;
};

const defaultApiUrl = "https://api.github.com";
const initialMessage = "Initial commit from template\n";
// An empty repository refuses the Git Data API (409 "Git Repository is empty."); this first file, made with the
// Contents API, gives it a commit. The template commit then replaces it as the branch's root.
const bootstrapPath = ".kiln-bootstrap";
const bootstrapMessage = "Kiln: prepare the empty repository";
const blobBatch = 50;
const maxBranchPages = 100;

const shaSchema = z.string().regex(/^[0-9a-f]{40}$/);
const repoSchema = z.object({
  name: z.string(),
  full_name: z.string(),
  html_url: z.string(),
  default_branch: z.string().min(1).optional(),
  owner: z.object({ login: z.string() }),
});
const userSchema = z.object({ login: z.string() });
const refSchema = z.object({ ref: z.string(), object: z.object({ sha: shaSchema }) });
const gitCommitSchema = z.object({
  sha: shaSchema,
  tree: z.object({ sha: shaSchema }),
  parents: z.array(z.object({ sha: shaSchema })),
  message: z.string(),
  author: z.object({ name: z.string(), email: z.string() }).nullable(),
});
const blobSchema = z.object({ sha: shaSchema });
const treeSchema = z.object({
  sha: shaSchema,
  truncated: z.boolean().optional(),
  tree: z.array(z.object({ path: z.string(), mode: z.string(), type: z.string(), sha: shaSchema })),
});
const branchesSchema = z.array(z.object({ name: z.string(), commit: z.object({ sha: shaSchema }) }));
const contentsSchema = z.object({ commit: z.object({ sha: shaSchema }) });
const shaTextSchema = z
  .string()
  .transform((text) => text.trim())
  .pipe(shaSchema);
const streamSchema = z.instanceof(ReadableStream);
const anything = z.unknown();

type GitCommit = z.infer<typeof gitCommitSchema>;
type Coordinates = { owner: string; repo: string };

export function createGitHubGitHost(options: GitHubGitHostOptions): GitHost {
  const secrets = [options.token];
  const api = createGitHubApi({
    token: options.token,
    apiUrl: options.apiUrl ?? defaultApiUrl,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs ?? 20_000,
  });
  const git = createGitCli({ git: options.git, secrets });
  const maxBundleBytes = options.maxBundleBytes ?? defaultMaxBundleBytes;
  const maxArchiveBytes = options.maxArchiveBytes ?? 1024 * 1024 * 1024;
  const transferTimeoutMs = options.transferTimeoutMs ?? 300_000;
  let login: string | undefined;

  function fail(kind: ProviderErrorKind, message: string): ProviderError {
    return new ProviderError("github", kind, scrub(message, secrets));
  }

  async function run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toGitHostError(error, "github", action, secrets);
    }
  }

  async function withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(options.scratchDir ?? os.tmpdir(), "kiln-github-"));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function scratchRepo(dir: string): Promise<string> {
    const gitDir = path.join(dir, "objects.git");
    await git.run(["init", "--bare", "--quiet", "--template=", gitDir]);
    return gitDir;
  }

  function coordinates(repo: RepoRef): Coordinates {
    const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(repo.fullName);
    if (repo.host !== "github" || !match?.[1] || !match[2])
      throw fail("invalid", `${JSON.stringify(repo.fullName)} is not a GitHub repository ("owner/name").`);
    return { owner: match[1], repo: match[2] };
  }

  function toRepoRef(data: z.infer<typeof repoSchema>): RepoRef {
    return {
      host: "github",
      fullName: data.full_name,
      webUrl: data.html_url,
      defaultBranch: data.default_branch ?? "main",
    };
  }

  async function currentLogin(): Promise<string> {
    login ??= (
      await api.call("GET /user", {}, userSchema, { action: "reading the token's user", idempotent: true })
    ).login;
    return login;
  }

  async function getRepo(owner: string, name: string) {
    return api.call("GET /repos/{owner}/{repo}", { owner, repo: name }, repoSchema, {
      action: `reading repository ${owner}/${name}`,
      idempotent: true,
      notFound: `GitHub has no repository ${owner}/${name}, or the token cannot see it.`,
    });
  }

  async function branchHead(at: Coordinates, branch: string): Promise<string | null> {
    const answer = await api.attempt(
      "GET /repos/{owner}/{repo}/git/ref/{ref}",
      { ...at, ref: `heads/${branch}` },
      refSchema,
      { action: `reading branch ${branch} of ${at.owner}/${at.repo}`, idempotent: true, handled: [404, 409] },
    );
    return answer.ok ? answer.data.object.sha : null;
  }

  async function findCommit(at: Coordinates, sha: string): Promise<GitCommit | null> {
    const answer = await api.attempt(
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
      { ...at, commit_sha: sha },
      gitCommitSchema,
      {
        action: `reading commit ${sha.slice(0, 12)} of ${at.owner}/${at.repo}`,
        idempotent: true,
        handled: [404, 409, 422],
      },
    );
    return answer.ok ? answer.data : null;
  }

  /** Uploads the blobs of `entries` that are files, in batches read from the local repository. */
  async function uploadBlobs(at: Coordinates, gitDir: string, shas: string[]): Promise<void> {
    const unique = [...new Set(shas)];
    for (let start = 0; start < unique.length; start += blobBatch) {
      const batch = unique.slice(start, start + blobBatch);
      const contents = await readBlobs(git, gitDir, batch, maxBundleBytes);
      // One at a time: GitHub's secondary rate limits punish concurrent content-creating requests.
      for (const sha of batch) {
        const content = contents.get(sha) ?? Buffer.alloc(0);
        const created = await api.call(
          "POST /repos/{owner}/{repo}/git/blobs",
          { ...at, content: content.toString("base64"), encoding: "base64" },
          blobSchema,
          {
            action: `uploading a file to ${at.owner}/${at.repo}`,
            idempotent: true,
            forbidden: contentsForbidden(at),
          },
        );
        if (created.sha !== sha)
          throw fail("internal", `GitHub stored a file as ${created.sha} but its content hashes to ${sha}.`);
      }
    }
  }

  async function createTree(at: Coordinates, entries: GitHubTreeEntry[], baseTree?: string): Promise<string> {
    const created = await api.call(
      "POST /repos/{owner}/{repo}/git/trees",
      { ...at, tree: entries, ...(baseTree ? { base_tree: baseTree } : {}) },
      treeSchema,
      {
        action: `building the file tree in ${at.owner}/${at.repo}`,
        idempotent: true,
        forbidden: contentsForbidden(at),
      },
    );
    return created.sha;
  }

  async function createCommit(
    at: Coordinates,
    body: {
      message: string;
      tree: string;
      parents: string[];
      author?: { name: string; email: string; date: string };
    },
  ): Promise<string> {
    const created = await api.call(
      "POST /repos/{owner}/{repo}/git/commits",
      { ...at, ...body },
      gitCommitSchema,
      {
        action: `creating a commit in ${at.owner}/${at.repo}`,
        forbidden: contentsForbidden(at),
      },
    );
    return created.sha;
  }

  // --- createRepo ----------------------------------------------------------------------------------------------

  async function createOrFindRepo(input: CreateRepoInput, owner: string | undefined) {
    const display = owner ? `${owner}/${input.name}` : input.name;
    const answer = await api.attempt(
      owner ? "POST /orgs/{org}/repos" : "POST /user/repos",
      {
        ...(owner ? { org: owner } : {}),
        name: input.name,
        description: input.description ?? "",
        private: true,
        auto_init: false,
        has_wiki: false,
        has_projects: false,
      },
      repoSchema,
      {
        action: `creating repository ${display}`,
        handled: [422],
        forbidden: owner
          ? `The token cannot create repositories in org ${owner}: it needs Administration: write on the org's repositories (fine-grained token) or the repo scope (classic), and the org may allow only owners to create repositories.`
          : "The token cannot create repositories: a fine-grained token needs Administration: write; a classic token needs the repo scope.",
        notFound: owner
          ? `GitHub has no organisation ${owner}, or the token's user is not a member of it: check the owner in Settings.`
          : undefined,
      },
    );
    if (answer.ok) return answer.data;
    if (!/already exists/i.test(answer.message))
      throw fail("invalid", `GitHub refused to create repository ${display}: ${answer.message}`);
    return getRepo(owner ?? (await currentLogin()), input.name);
  }

  async function bootstrap(at: Coordinates): Promise<void> {
    const answer = await api.attempt(
      "PUT /repos/{owner}/{repo}/contents/{path}",
      {
        ...at,
        path: bootstrapPath,
        message: bootstrapMessage,
        content: Buffer.from("Kiln replaces this commit with the app template.\n").toString("base64"),
      },
      contentsSchema,
      {
        action: `preparing the empty repository ${at.owner}/${at.repo}`,
        forbidden: contentsForbidden(at),
        // 422: the file exists, so an earlier or concurrent attempt already prepared it.
        handled: [422],
      },
    );
    if (!answer.ok && !/sha/i.test(answer.message))
      throw fail("invalid", `GitHub refused to prepare ${at.owner}/${at.repo}: ${answer.message}`);
  }

  async function pushTemplate(
    at: Coordinates,
    branch: string,
    gitDir: string,
    tree: string,
    entries: TreeEntry[],
  ): Promise<string> {
    await uploadBlobs(
      at,
      gitDir,
      entries.filter((entry) => entry.type === "blob").map((entry) => entry.sha),
    );
    const created = await createTree(
      at,
      entries.map((entry) => ({ path: entry.path, mode: entry.mode, type: entry.type, sha: entry.sha })),
    );
    if (created !== tree) throw treeMismatch(at, created, tree);
    const sha = await createCommit(at, { message: initialMessage, tree, parents: [] });
    // Forced: the branch holds only the bootstrap commit, which the template commit replaces as its root.
    await api.call(
      "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
      { ...at, ref: `heads/${branch}`, sha, force: true },
      refSchema,
      { action: `setting branch ${branch} of ${at.owner}/${at.repo}`, forbidden: contentsForbidden(at) },
    );
    return sha;
  }

  async function createRepo(input: CreateRepoInput): Promise<{ repo: RepoRef; initialSha: string }> {
    if (!isRepoName(input.name)) {
      throw fail(
        "invalid",
        `${JSON.stringify(input.name)} is not a valid repository name: use 1-100 lowercase letters, digits and "-", starting with a letter or digit.`,
      );
    }
    const owner = input.owner ?? options.owner;
    return run(`creating repository ${input.name} on GitHub`, () =>
      withScratch(async (dir) => {
        // The template is read first, so a broken template never leaves an empty repository behind.
        const gitDir = await scratchRepo(dir);
        const tree = await writeTemplateTree(git, gitDir, input.templateDir);
        const entries = await listTree(git, gitDir, tree);
        const repo = toRepoRef(await createOrFindRepo(input, owner));
        const at = coordinates(repo);
        const head = await branchHead(at, repo.defaultBranch);
        if (head) {
          const commit = await findCommit(at, head);
          if (commit?.tree.sha === tree) return { repo, initialSha: head };
          if (!commit || !isBootstrap(commit)) {
            throw fail(
              "conflict",
              `A repository named ${repo.fullName} already exists on GitHub with other files: Kiln did not create it from this template. Pick another project name, or rename or delete that repository.`,
            );
          }
        } else {
          await bootstrap(at);
        }
        const initialSha = await pushTemplate(at, repo.defaultBranch, gitDir, tree, entries);
        return { repo, initialSha };
      }),
    );
  }

  // --- the rest of the port ------------------------------------------------------------------------------------

  async function deleteRepo(repo: RepoRef): Promise<void> {
    const at = coordinates(repo);
    await run(`deleting repository ${repo.fullName}`, async () => {
      await api.attempt("DELETE /repos/{owner}/{repo}", at, anything, {
        action: `deleting repository ${repo.fullName}`,
        idempotent: true,
        handled: [404],
        forbidden: `The token cannot delete ${repo.fullName}: a fine-grained token needs Administration: write on it; a classic token needs the delete_repo scope.`,
      });
    });
  }

  async function listBranches(repo: RepoRef): Promise<Array<{ name: string; sha: string }>> {
    const at = coordinates(repo);
    return run(`listing the branches of ${repo.fullName}`, async () => {
      const branches: Array<{ name: string; sha: string }> = [];
      for (let page = 1; page <= maxBranchPages; page++) {
        const batch = await api.call(
          "GET /repos/{owner}/{repo}/branches",
          { ...at, per_page: 100, page },
          branchesSchema,
          {
            action: `listing the branches of ${repo.fullName}`,
            idempotent: true,
            notFound: `GitHub has no repository ${repo.fullName}, or the token cannot see it.`,
          },
        );
        branches.push(...batch.map((branch) => ({ name: branch.name, sha: branch.commit.sha })));
        if (batch.length < 100) return branches;
      }
      throw fail(
        "internal",
        `${repo.fullName} has more than ${maxBranchPages * 100} branches; Kiln lists fewer.`,
      );
    });
  }

  async function createBranch(repo: RepoRef, name: string, sha: string): Promise<void> {
    const at = coordinates(repo);
    await run(`creating branch ${name} in ${repo.fullName}`, async () => {
      if (!(await isBranchName(git, name)))
        throw fail("invalid", `${JSON.stringify(name)} is not a valid branch name.`);
      if (!isFullSha(sha) || sha.length !== 40)
        throw fail("invalid", `${JSON.stringify(sha)} is not a full commit sha.`);
      const answer = await api.attempt(
        "POST /repos/{owner}/{repo}/git/refs",
        { ...at, ref: `refs/heads/${name}`, sha },
        refSchema,
        {
          action: `creating branch ${name} in ${repo.fullName}`,
          handled: [409, 422],
          forbidden: contentsForbidden(at),
        },
      );
      if (answer.ok) return;
      if (answer.status === 409 || /object does not exist/i.test(answer.message))
        throw fail("not_found", `Commit ${sha} is not in ${repo.fullName}.`);
      if (!/already exists/i.test(answer.message))
        throw fail("invalid", `GitHub refused branch ${name} in ${repo.fullName}: ${answer.message}`);
      const current = await branchHead(at, name);
      if (current === sha) return;
      throw fail(
        "conflict",
        `Branch ${name} already exists in ${repo.fullName}${current ? ` at ${current.slice(0, 12)}` : ""}, not at ${sha.slice(0, 12)}.`,
      );
    });
  }

  async function resolveRef(repo: RepoRef, ref: string): Promise<string | null> {
    const at = coordinates(repo);
    return run(`resolving ${ref} in ${repo.fullName}`, async () => {
      if (!isPlainRevision(ref))
        throw fail("invalid", `${JSON.stringify(ref)} is not a branch name, tag or commit sha.`);
      const answer = await api.attempt(
        "GET /repos/{owner}/{repo}/commits/{ref}",
        { ...at, ref },
        shaTextSchema,
        {
          action: `resolving ${ref} in ${repo.fullName}`,
          idempotent: true,
          headers: { accept: "application/vnd.github.sha" },
          handled: [404, 409, 422],
        },
      );
      if (answer.ok) return answer.data;
      // 404 is also GitHub's answer for a missing repository, which is an error rather than a missing ref.
      if (answer.status === 404) await getRepo(at.owner, at.repo);
      return null;
    });
  }

  async function exportTree(repo: RepoRef, sha: string, destDir: string): Promise<void> {
    const at = coordinates(repo);
    await run(`exporting ${sha} of ${repo.fullName}`, async () => {
      if (!isPlainRevision(sha))
        throw fail("invalid", `${JSON.stringify(sha)} is not a branch name, tag or commit sha.`);
      const dest = await prepareExportDir(destDir);
      await withScratch(async (dir) => {
        const archive = path.join(dir, "archive.tar.gz");
        try {
          // GitHub answers with a redirect to a short-lived codeload URL; fetch follows it and, the origin being
          // different, drops the Authorization header on the way.
          const stream = await api.call(
            "GET /repos/{owner}/{repo}/tarball/{ref}",
            { ...at, ref: sha },
            streamSchema,
            {
              action: `downloading ${sha.slice(0, 12)} of ${repo.fullName}`,
              idempotent: true,
              stream: true,
              timeoutMs: transferTimeoutMs,
              notFound: `Commit ${sha} is not in ${repo.fullName} (or the token cannot read the repository).`,
            },
          );
          await saveStream(stream, archive, maxArchiveBytes);
          await extractTarball(git, archive, dest);
        } catch (error) {
          await emptyExportDir(dest);
          throw error;
        }
      });
    });
  }

  async function commitFromBundle(repo: RepoRef, input: CommitFromBundleInput): Promise<{ sha: string }> {
    const at = coordinates(repo);
    return run(`committing the sandbox's bundle to ${repo.fullName}`, async () => {
      const problem = await commitInputProblem(git, input);
      if (problem) throw fail("invalid", problem);
      if (input.parentSha.length !== 40)
        throw fail("invalid", "GitHub repositories use 40-character commit shas.");
      return withScratch(async (dir) => {
        const gitDir = await scratchRepo(dir);
        const snapshot = await importBundle(git, {
          gitDir,
          bundlePath: input.bundlePath,
          quarantineRef: "refs/kiln/bundle",
          maxBytes: maxBundleBytes,
        });
        const parent = await findCommit(at, input.parentSha);
        if (!parent)
          throw fail("not_found", `The parent commit ${input.parentSha} is not in ${repo.fullName}.`);
        const current = await branchHead(at, input.branch);
        if (current && current !== input.parentSha) {
          const landed = await findCommit(at, current);
          if (landed && isSameCommit(landed, input, snapshot.headTree)) return { sha: current };
          throw movedBranch(repo, input, current);
        }
        const tree = await buildTree(at, gitDir, snapshot, parent.tree.sha);
        const sha = await createCommit(at, {
          message: input.message,
          tree,
          parents: [input.parentSha],
          author: {
            name: input.author.name,
            email: input.author.email,
            date: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
          },
        });
        return { sha: await moveBranch(at, repo, input, current, sha, tree) };
      });
    });
  }

  /** Recreates the bundle's HEAD tree on GitHub on top of the parent's tree; returns it once its sha matches. */
  async function buildTree(
    at: Coordinates,
    gitDir: string,
    snapshot: BundleSnapshot,
    parentTree: string,
  ): Promise<string> {
    if (snapshot.headTree === parentTree) return parentTree;
    // Normally the sandbox's first commit holds exactly the exported parent files (same tree sha), so a local
    // diff is the change set. If not, compare against GitHub's listing of the parent tree instead.
    const changes =
      snapshot.baseSha && snapshot.baseTree === parentTree
        ? await diffTrees(git, gitDir, snapshot.baseSha, snapshot.headSha)
        : await changesAgainstRemote(at, parentTree, snapshot.entries);
    await uploadBlobs(
      at,
      gitDir,
      changes.flatMap((change) => (change.kind === "upsert" && change.type === "blob" ? [change.sha] : [])),
    );
    // Deletions first, so a file replaced by a directory (or the reverse) is gone before its successor arrives.
    const ordered = [
      ...changes.filter((change) => change.kind === "delete"),
      ...changes.filter((change) => change.kind === "upsert"),
    ];
    const created = await createTree(at, ordered.map(toGitHubEntry), parentTree);
    if (created !== snapshot.headTree) throw treeMismatch(at, created, snapshot.headTree);
    return created;
  }

  async function changesAgainstRemote(at: Coordinates, parentTree: string, entries: TreeEntry[]) {
    const listing = await api.call(
      "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
      { ...at, tree_sha: parentTree, recursive: "1" },
      treeSchema,
      { action: `listing the files of ${at.owner}/${at.repo}`, idempotent: true },
    );
    if (listing.truncated) {
      throw fail(
        "invalid",
        `${at.owner}/${at.repo} has too many files for GitHub to list, and the sandbox did not start from the exact files of its parent commit. Start the sandbox from an export of that commit.`,
      );
    }
    const remote = new Map(
      listing.tree.filter((item) => item.type !== "tree").map((item) => [item.path, item] as const),
    );
    const changes: TreeChange[] = [];
    for (const entry of entries) {
      const theirs = remote.get(entry.path);
      if (!theirs || theirs.sha !== entry.sha || theirs.mode !== entry.mode)
        changes.push({
          kind: "upsert",
          path: entry.path,
          mode: entry.mode,
          type: entry.type,
          sha: entry.sha,
        });
    }
    const local = new Set(entries.map((entry) => entry.path));
    for (const [itemPath, item] of remote) {
      if (!local.has(itemPath)) changes.push({ kind: "delete", path: itemPath, mode: item.mode });
    }
    return changes;
  }

  /**
   * Moves the branch to `sha` and answers where it ends. When the move loses a race to a commit of the same files,
   * parent, message and author (two servers, or two copies of the pipeline, applying one runner event at once),
   * that commit is the answer for both: the work landed once.
   */
  async function moveBranch(
    at: Coordinates,
    repo: RepoRef,
    input: CommitIdentity & { branch: string },
    current: string | null,
    sha: string,
    tree: string,
  ): Promise<string> {
    const action = `moving branch ${input.branch} of ${repo.fullName}`;
    // Not forced: GitHub refuses with 422 unless the new commit descends from the branch's commit, so a branch
    // that moved meanwhile is never overwritten.
    const answer = current
      ? await api.attempt(
          "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
          { ...at, ref: `heads/${input.branch}`, sha, force: false },
          refSchema,
          { action, handled: [422], forbidden: contentsForbidden(at) },
        )
      : await api.attempt(
          "POST /repos/{owner}/{repo}/git/refs",
          { ...at, ref: `refs/heads/${input.branch}`, sha },
          refSchema,
          { action, handled: [422], forbidden: contentsForbidden(at) },
        );
    if (answer.ok) return sha;
    const head = await branchHead(at, input.branch);
    const landed = head ? await findCommit(at, head) : null;
    if (head && landed && isSameCommit(landed, input, tree)) return head;
    throw movedBranch(repo, input, head);
  }

  async function commitTree(repo: RepoRef, input: CommitTreeInput): Promise<{ sha: string }> {
    const at = coordinates(repo);
    return run(`committing the files of ${input.treeOfSha.slice(0, 12)} to ${repo.fullName}`, async () => {
      const [source, parent] = await Promise.all([
        findCommit(at, input.treeOfSha),
        findCommit(at, input.parentSha),
      ]);
      if (!source) throw fail("not_found", `The commit ${input.treeOfSha} is not in ${repo.fullName}.`);
      if (!parent)
        throw fail("not_found", `The parent commit ${input.parentSha} is not in ${repo.fullName}.`);
      const current = await branchHead(at, input.branch);
      if (current && current !== input.parentSha) {
        const landed = await findCommit(at, current);
        if (landed && isSameCommit(landed, input, source.tree.sha)) return { sha: current };
        throw movedBranch(repo, input, current);
      }
      const sha = await createCommit(at, {
        message: input.message,
        tree: source.tree.sha,
        parents: [input.parentSha],
        author: {
          name: input.author.name,
          email: input.author.email,
          date: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        },
      });
      return { sha: await moveBranch(at, repo, input, current, sha, source.tree.sha) };
    });
  }

  return {
    kind: "github",
    ownsRepos: false,
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

type GitHubTreeEntry = { path: string; mode: string; type: TreeEntryType; sha: string | null };

function typeOfMode(mode: string): TreeEntryType {
  return mode === "160000" ? "commit" : mode === "040000" ? "tree" : "blob";
}

function toGitHubEntry(change: TreeChange): GitHubTreeEntry {
  if (change.kind === "delete")
    return { path: change.path, mode: change.mode, type: typeOfMode(change.mode), sha: null };
  return { path: change.path, mode: change.mode, type: change.type, sha: change.sha };
}

function isBootstrap(commit: GitCommit): boolean {
  return commit.parents.length === 0 && commit.message.trim() === bootstrapMessage;
}

/** What makes two commits the same piece of work: parent, message and author (the files are compared apart). */
type CommitIdentity = Pick<CommitFromBundleInput, "parentSha" | "message" | "author">;

/** A retry of a commit that already landed: same parent, files, message and author. */
function isSameCommit(commit: GitCommit, input: CommitIdentity, tree: string): boolean {
  return (
    commit.tree.sha === tree &&
    commit.parents.length === 1 &&
    commit.parents[0]?.sha === input.parentSha &&
    commit.message === input.message &&
    commit.author?.name === input.author.name &&
    commit.author.email === input.author.email
  );
}

function contentsForbidden(at: Coordinates): string {
  return `The token cannot write to ${at.owner}/${at.repo}: a fine-grained token needs Contents: write on it; a classic token needs the repo scope.`;
}

function treeMismatch(at: Coordinates, built: string, expected: string): ProviderError {
  return new ProviderError(
    "github",
    "internal",
    `GitHub built tree ${built.slice(0, 12)} in ${at.owner}/${at.repo} but the files to commit are tree ${expected.slice(0, 12)}; nothing was committed. Retry; if it repeats, report it.`,
  );
}

function movedBranch(
  repo: RepoRef,
  input: Pick<CommitFromBundleInput, "branch" | "parentSha">,
  current: string | null,
): ProviderError {
  const where = current ? `now points at ${current.slice(0, 12)}` : "was deleted";
  return new ProviderError(
    "github",
    "conflict",
    `Branch ${input.branch} of ${repo.fullName} ${where}, not at ${input.parentSha.slice(0, 12)} where the sandbox started: nothing was committed. Start a new revision from the branch's current commit.`,
  );
}
