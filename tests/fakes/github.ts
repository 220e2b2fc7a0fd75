import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import {
  dispatch,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type FakeVendorOptions,
  json,
  listenOnLoopback,
  type RecordedRequest,
  route,
  startFakeHttpServer,
} from "./http";

/**
 * GitHub REST v3 as documented: `Authorization: token X` or `Bearer X`, JSON errors `{message, documentation_url}`,
 * rate-limit headers on every answer. Beyond `/user` it is a small in-memory GitHub: repositories, refs and the Git
 * Data API (blobs, trees with `base_tree`, commits) with real git object ids, the Contents API, branches with Link
 * pagination, commits by ref, and tarballs served through a separate "codeload" origin behind a 302 — as
 * github.com does. Like real GitHub, an empty repository refuses the Git Data API with 409 "Git Repository is
 * empty." until a first file arrives through the Contents API.
 */

export type FakeGitHubUser = { login: string; id: number; name: string | null; type: "User" | "Bot" };

export type FakeGitHubOptions = FakeVendorOptions & {
  token: string;
  user?: Partial<FakeGitHubUser>;
  /** Classic-token scopes reported in `X-OAuth-Scopes`; deleting a repository needs `delete_repo`. */
  scopes?: string[];
  /** Organisations the user belongs to; `canCreateRepos: false` makes creating a repository there a 403. */
  orgs?: Record<string, { canCreateRepos?: boolean }>;
  /** Requests left in the core rate limit; once spent, GitHub's 403 "API rate limit exceeded". */
  rateLimitRemaining?: number;
};

export type FakeGitIdentity = { name: string; email: string; date: string };
export type FakeGitCommit = {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: FakeGitIdentity;
  committer: FakeGitIdentity;
};
export type FakeGitHubRepo = {
  owner: string;
  name: string;
  description: string | null;
  private: boolean;
  defaultBranch: string;
  /** Full ref name ("refs/heads/main") → commit sha. */
  refs: Map<string, string>;
};
export type FakeFile = { mode: string; type: ObjectType; sha: string };

export type FakeGitHub = FakeServer & {
  /** Origin of the tarball downloads GitHub redirects to (codeload.github.com in real life). */
  codeloadUrl: string;
  codeloadRequests: RecordedRequest[];
  repo(fullName: string): FakeGitHubRepo | undefined;
  commit(fullName: string, sha: string): FakeGitCommit | undefined;
  /** Every file of a tree, by path. */
  files(fullName: string, treeSha: string): Map<string, FakeFile>;
  blob(fullName: string, sha: string): Buffer | undefined;
};

const docs = "https://docs.github.com/rest";

function githubError(status: number, message: string, documentationUrl = docs, extra: object = {}) {
  return json(status, { message, documentation_url: documentationUrl, status: String(status), ...extra });
}

// --- git objects ------------------------------------------------------------------------------------------------

type ObjectType = "blob" | "tree" | "commit";
type TreeItem = { name: string; mode: string; type: ObjectType; sha: string };

const fileModes: Record<string, ObjectType> = {
  "100644": "blob",
  "100755": "blob",
  "120000": "blob",
  "040000": "tree",
  "160000": "commit",
};

function hashObject(type: string, body: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest("hex");
}

/** git orders tree entries by name, with a subtree compared as if its name ended in "/". */
function treeOrder(a: TreeItem, b: TreeItem): number {
  const left = Buffer.from(a.type === "tree" ? `${a.name}/` : a.name);
  const right = Buffer.from(b.type === "tree" ? `${b.name}/` : b.name);
  return Buffer.compare(left, right);
}

function identityLine(identity: FakeGitIdentity): string {
  const seconds = Math.floor(Date.parse(identity.date) / 1000);
  return `${identity.name} <${identity.email}> ${seconds} +0000`;
}

class GitStore {
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, TreeItem[]>();
  readonly commits = new Map<string, FakeGitCommit>();

  putBlob(content: Buffer): string {
    const sha = hashObject("blob", content);
    this.blobs.set(sha, content);
    return sha;
  }

  putTree(items: TreeItem[]): string {
    const sorted = [...items].sort(treeOrder);
    const body = Buffer.concat(
      sorted.flatMap((item) => [
        Buffer.from(`${item.mode === "040000" ? "40000" : item.mode} ${item.name}\0`),
        Buffer.from(item.sha, "hex"),
      ]),
    );
    const sha = hashObject("tree", body);
    this.trees.set(sha, sorted);
    return sha;
  }

  putCommit(commit: Omit<FakeGitCommit, "sha">): FakeGitCommit {
    const lines = [
      `tree ${commit.tree}`,
      ...commit.parents.map((parent) => `parent ${parent}`),
      `author ${identityLine(commit.author)}`,
      `committer ${identityLine(commit.committer)}`,
      "",
      commit.message,
    ];
    const sha = hashObject("commit", Buffer.from(lines.join("\n")));
    const stored = { ...commit, sha };
    this.commits.set(sha, stored);
    return stored;
  }

  /** Every leaf (blob or submodule) under a tree, by full path. */
  flatten(treeSha: string, prefix = "", into = new Map<string, FakeFile>()): Map<string, FakeFile> {
    for (const item of this.trees.get(treeSha) ?? []) {
      const itemPath = prefix ? `${prefix}/${item.name}` : item.name;
      if (item.type === "tree") this.flatten(item.sha, itemPath, into);
      else into.set(itemPath, { mode: item.mode, type: item.type, sha: item.sha });
    }
    return into;
  }

  /** Writes nested trees for a flat path → file map and returns the root tree (git has no empty directories). */
  build(files: Map<string, FakeFile>): string {
    type Node = Map<string, FakeFile | Node>;
    const root: Node = new Map();
    for (const [filePath, file] of files) {
      const parts = filePath.split("/");
      let node = root;
      for (const part of parts.slice(0, -1)) {
        const child = node.get(part);
        if (child instanceof Map) node = child;
        else {
          const created: Node = new Map();
          node.set(part, created);
          node = created;
        }
      }
      node.set(parts.at(-1) ?? "", file);
    }
    const write = (node: Node): string =>
      this.putTree(
        [...node].map(([name, child]) =>
          child instanceof Map
            ? { name, mode: "040000", type: "tree" as const, sha: write(child) }
            : { name, mode: child.mode, type: child.type, sha: child.sha },
        ),
      );
    return write(root);
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    const queue = [descendant];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const sha = queue.shift();
      if (sha === undefined || seen.has(sha)) continue;
      if (sha === ancestor) return true;
      seen.add(sha);
      queue.push(...(this.commits.get(sha)?.parents ?? []));
    }
    return false;
  }
}

type RepoState = FakeGitHubRepo & { id: number; store: GitStore; createdAt: string };

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isValidPath(filePath: string): boolean {
  return (
    filePath.length > 0 && filePath.split("/").every((part) => part !== "" && part !== "." && part !== "..")
  );
}

function objectField(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, key)
    ? Reflect.get(value, key)
    : undefined;
}

function parseBody(request: FakeRequest): unknown {
  if (!request.body) return {};
  try {
    return JSON.parse(request.body);
  } catch (error) {
    // GitHub answers unparseable JSON with 400 "Problems parsing JSON"; the caller maps undefined to that.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function stringField(body: unknown, key: string): string | undefined {
  const value = objectField(body, key);
  return typeof value === "string" ? value : undefined;
}

// --- tarballs ---------------------------------------------------------------------------------------------------

const execFileBuffer = (file: string, args: string[]) =>
  new Promise<Buffer>((resolve, reject) => {
    execFile(file, args, { encoding: "buffer", maxBuffer: 512 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });

/** A .tar.gz of a tree under one top-level directory, as codeload.github.com serves it. */
async function tarball(store: GitStore, treeSha: string, topDir: string): Promise<Buffer> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "fake-codeload-"));
  try {
    const top = path.join(scratch, topDir);
    await mkdir(top);
    for (const [filePath, file] of store.flatten(treeSha)) {
      const target = path.join(top, filePath);
      await mkdir(path.dirname(target), { recursive: true });
      if (file.type === "commit") {
        await mkdir(target, { recursive: true });
      } else if (file.mode === "120000") {
        await symlink((store.blobs.get(file.sha) ?? Buffer.alloc(0)).toString("utf8"), target);
      } else {
        await writeFile(target, store.blobs.get(file.sha) ?? Buffer.alloc(0));
        await chmod(target, file.mode === "100755" ? 0o775 : 0o664);
      }
    }
    return await execFileBuffer("tar", [
      "--format=pax",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-czf",
      "-",
      "-C",
      scratch,
      topDir,
    ]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// --- the server ---------------------------------------------------------------------------------------------------

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const user: FakeGitHubUser = {
    login: "octocat",
    id: 583231,
    name: "The Octocat",
    type: "User",
    ...options.user,
  };
  const scopes = options.scopes ?? ["repo"];
  const orgs = options.orgs ?? {};
  let rateLimitRemaining = options.rateLimitRemaining;
  const rateLimitReset = Math.floor(Date.now() / 1000) + 3600;
  const commonHeaders = () => ({
    "x-github-media-type": "github.v3; format=json",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": String(rateLimitRemaining ?? 4999),
    "x-ratelimit-reset": String(rateLimitReset),
    "x-ratelimit-resource": "core",
  });
  const repos = new Map<string, RepoState>();
  let nextRepoId = 1_296_269;
  const downloads = new Map<string, { repo: RepoState; sha: string; expires: number }>();
  let apiBase = "";

  const keyOf = (owner: string, name: string) => `${owner}/${name}`.toLowerCase();
  const repoUrl = (repo: FakeGitHubRepo) => `${apiBase}/repos/${repo.owner}/${repo.name}`;
  const identity = (): FakeGitIdentity => ({
    name: user.name ?? user.login,
    email: `${user.id}+${user.login}@users.noreply.github.com`,
    date: isoNow(),
  });

  function repoJson(repo: RepoState) {
    const ownerIsOrg = repo.owner.toLowerCase() !== user.login.toLowerCase();
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      private: repo.private,
      owner: {
        login: repo.owner,
        id: ownerIsOrg ? 9919 : user.id,
        type: ownerIsOrg ? "Organization" : "User",
      },
      html_url: `https://github.com/${repo.owner}/${repo.name}`,
      description: repo.description,
      fork: false,
      url: repoUrl(repo),
      default_branch: repo.defaultBranch,
      visibility: repo.private ? "private" : "public",
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      pushed_at: repo.createdAt,
      size: 0,
      permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    };
  }

  function gitCommitJson(repo: RepoState, commit: FakeGitCommit) {
    return {
      sha: commit.sha,
      node_id: `C_${commit.sha.slice(0, 12)}`,
      url: `${repoUrl(repo)}/git/commits/${commit.sha}`,
      html_url: `https://github.com/${repo.owner}/${repo.name}/commit/${commit.sha}`,
      author: commit.author,
      committer: commit.committer,
      tree: { sha: commit.tree, url: `${repoUrl(repo)}/git/trees/${commit.tree}` },
      message: commit.message,
      parents: commit.parents.map((sha) => ({
        sha,
        url: `${repoUrl(repo)}/git/commits/${sha}`,
        html_url: `https://github.com/${repo.owner}/${repo.name}/commit/${sha}`,
      })),
      verification: {
        verified: false,
        reason: "unsigned",
        signature: null,
        payload: null,
        verified_at: null,
      },
    };
  }

  function refJson(repo: RepoState, ref: string, sha: string) {
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString("base64url")}`,
      url: `${repoUrl(repo)}/git/${ref}`,
      object: { sha, type: "commit", url: `${repoUrl(repo)}/git/commits/${sha}` },
    };
  }

  function treeJson(repo: RepoState, sha: string, recursive: boolean) {
    const items: Array<{
      path: string;
      mode: string;
      type: ObjectType;
      sha: string;
      size?: number;
      url: string;
    }> = [];
    const walk = (treeSha: string, prefix: string) => {
      for (const item of repo.store.trees.get(treeSha) ?? []) {
        const itemPath = prefix ? `${prefix}/${item.name}` : item.name;
        const size = item.type === "blob" ? repo.store.blobs.get(item.sha)?.length : undefined;
        items.push({
          path: itemPath,
          mode: item.mode,
          type: item.type,
          sha: item.sha,
          ...(size === undefined ? {} : { size }),
          url: `${repoUrl(repo)}/git/${item.type === "tree" ? "trees" : "blobs"}/${item.sha}`,
        });
        if (recursive && item.type === "tree") walk(item.sha, itemPath);
      }
    };
    walk(sha, "");
    return { sha, url: `${repoUrl(repo)}/git/trees/${sha}`, tree: items, truncated: false };
  }

  /** A branch, tag, full or abbreviated sha → commit sha (GitHub's `GET /commits/{ref}` rules, simplified). */
  function resolve(repo: RepoState, ref: string): string | undefined {
    const byRef =
      repo.refs.get(`refs/heads/${ref}`) ?? repo.refs.get(`refs/tags/${ref}`) ?? repo.refs.get(ref);
    if (byRef) return byRef;
    if (!/^[0-9a-f]{7,40}$/.test(ref)) return undefined;
    const matches = [...repo.store.commits.keys()].filter((sha) => sha.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  const isEmpty = (repo: RepoState) => repo.refs.size === 0;
  const emptyRepo = () =>
    githubError(409, "Git Repository is empty.", `${docs}/git/blobs#create-a-blob`, { status: "409" });

  function ownerAllowed(owner: string): boolean {
    return owner.toLowerCase() === user.login.toLowerCase() || owner in orgs;
  }

  function findRepo(request: FakeRequest): RepoState | undefined {
    const { owner = "", repo = "" } = request.params;
    if (!ownerAllowed(owner)) return undefined;
    return repos.get(keyOf(owner, repo));
  }

  /** Routes under /repos/:owner/:repo that need an existing repository. */
  function repoRoute(
    method: string,
    suffix: string,
    handle: (repo: RepoState, request: FakeRequest) => FakeReply | Promise<FakeReply>,
  ) {
    return route(method, `/repos/:owner/:repo${suffix}`, (request) => {
      const repo = findRepo(request);
      if (!repo) return githubError(404, "Not Found", `${docs}/repos/repos#get-a-repository`);
      return handle(repo, request);
    });
  }

  function createRepo(request: FakeRequest, owner: string): FakeReply {
    const body = parseBody(request);
    if (body === undefined) return githubError(400, "Problems parsing JSON");
    const name = stringField(body, "name");
    if (!name || !/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      return githubError(422, "Repository creation failed.", `${docs}/repos/repos#create-a-repository`, {
        errors: [{ resource: "Repository", code: "custom", field: "name", message: "name is invalid" }],
      });
    }
    if (repos.has(keyOf(owner, name))) {
      return githubError(422, "Repository creation failed.", `${docs}/repos/repos#create-a-repository`, {
        errors: [
          {
            resource: "Repository",
            code: "custom",
            field: "name",
            message: "name already exists on this account",
          },
        ],
      });
    }
    const repo: RepoState = {
      id: nextRepoId++,
      owner,
      name,
      description: stringField(body, "description") ?? null,
      private: objectField(body, "private") !== false,
      defaultBranch: "main",
      refs: new Map(),
      store: new GitStore(),
      createdAt: isoNow(),
    };
    repos.set(keyOf(owner, name), repo);
    if (objectField(body, "auto_init") === true) {
      const files = new Map<string, FakeFile>([
        ["README.md", { mode: "100644", type: "blob", sha: repo.store.putBlob(Buffer.from(`# ${name}\n`)) }],
      ]);
      const commit = repo.store.putCommit({
        tree: repo.store.build(files),
        parents: [],
        message: "Initial commit",
        author: identity(),
        committer: identity(),
      });
      repo.refs.set("refs/heads/main", commit.sha);
    }
    return json(201, repoJson(repo));
  }

  /** POST /git/trees: entries are applied over `base_tree` (or nothing), in order; `sha: null` deletes. */
  function createTree(repo: RepoState, body: unknown): FakeReply {
    const entries = objectField(body, "tree");
    if (!Array.isArray(entries)) return githubError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.');
    const baseTree = stringField(body, "base_tree");
    if (baseTree !== undefined && !repo.store.trees.has(baseTree))
      return githubError(422, "base_tree is not a valid tree oid");
    const files = baseTree ? repo.store.flatten(baseTree) : new Map<string, FakeFile>();
    const removeUnder = (prefix: string) => {
      for (const key of [...files.keys()])
        if (key === prefix || key.startsWith(`${prefix}/`)) files.delete(key);
    };
    for (const entry of entries) {
      const entryPath = stringField(entry, "path") ?? "";
      const mode = stringField(entry, "mode") ?? "";
      const type = fileModes[mode];
      if (!isValidPath(entryPath)) return githubError(422, `tree.path contains a malformed path component`);
      if (!type || stringField(entry, "type") !== type)
        return githubError(422, `Invalid tree info: mode ${mode} and type do not match`);
      const sha = objectField(entry, "sha");
      const content = stringField(entry, "content");
      if (sha === null && content === undefined) {
        const exists = [...files.keys()].some((key) => key === entryPath || key.startsWith(`${entryPath}/`));
        // Documented: "Returns an error if you try to delete a file that does not exist."
        if (!exists) return githubError(422, "GitRPC::BadObjectState");
        removeUnder(entryPath);
        continue;
      }
      let objectSha: string;
      if (content !== undefined) objectSha = repo.store.putBlob(Buffer.from(content, "utf8"));
      else if (typeof sha === "string") objectSha = sha;
      else return githubError(422, "Must supply tree.sha or tree.content");
      if (type === "blob" && !repo.store.blobs.has(objectSha))
        return githubError(422, "GitRPC::BadObjectState");
      if (type === "tree" && !repo.store.trees.has(objectSha))
        return githubError(422, "GitRPC::BadObjectState");
      removeUnder(entryPath);
      const parts = entryPath.split("/");
      for (let index = 1; index < parts.length; index++) files.delete(parts.slice(0, index).join("/"));
      if (type === "tree") {
        for (const [sub, file] of repo.store.flatten(objectSha)) files.set(`${entryPath}/${sub}`, file);
      } else {
        files.set(entryPath, { mode, type, sha: objectSha });
      }
    }
    return json(201, treeJson(repo, repo.store.build(files), false));
  }

  function createCommit(repo: RepoState, body: unknown): FakeReply {
    const message = stringField(body, "message");
    const tree = stringField(body, "tree");
    const parents = objectField(body, "parents") ?? [];
    if (message === undefined || tree === undefined)
      return githubError(422, 'Invalid request.\n\n"message" and "tree" are required.');
    if (!repo.store.trees.has(tree)) return githubError(422, "Tree SHA does not exist");
    if (!Array.isArray(parents) || parents.some((parent) => !repo.store.commits.has(String(parent))))
      return githubError(422, "Parent SHA does not exist or is not a commit object");
    const person = (key: string): FakeGitIdentity => {
      const value = objectField(body, key);
      const name = stringField(value, "name");
      const email = stringField(value, "email");
      if (!name || !email) return identity();
      return { name, email, date: stringField(value, "date") ?? isoNow() };
    };
    const author = person("author");
    const committer = objectField(body, "committer") === undefined ? identity() : person("committer");
    const commit = repo.store.putCommit({ tree, parents: parents.map(String), message, author, committer });
    return json(201, gitCommitJson(repo, commit));
  }

  function putContents(repo: RepoState, request: FakeRequest): FakeReply {
    const body = parseBody(request);
    const filePath = request.params.path ?? "";
    const message = stringField(body, "message");
    const content = stringField(body, "content");
    if (message === undefined || content === undefined)
      return githubError(422, 'Invalid request.\n\n"message", "content" wasn\'t supplied.');
    if (!isValidPath(filePath)) return githubError(422, "path contains a malformed path component");
    const branch = stringField(body, "branch") ?? repo.defaultBranch;
    const head = repo.refs.get(`refs/heads/${branch}`);
    if (!head && !isEmpty(repo)) return githubError(404, `Branch ${branch} not found`);
    const parent = head ? repo.store.commits.get(head) : undefined;
    const files = parent ? repo.store.flatten(parent.tree) : new Map<string, FakeFile>();
    const existing = files.get(filePath);
    if (existing && stringField(body, "sha") !== existing.sha)
      return githubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
    const blobSha = repo.store.putBlob(Buffer.from(content, "base64"));
    files.set(filePath, { mode: "100644", type: "blob", sha: blobSha });
    const commit = repo.store.putCommit({
      tree: repo.store.build(files),
      parents: head ? [head] : [],
      message,
      author: identity(),
      committer: identity(),
    });
    repo.refs.set(`refs/heads/${branch}`, commit.sha);
    const name = filePath.split("/").at(-1) ?? filePath;
    return json(existing ? 200 : 201, {
      content: {
        name,
        path: filePath,
        sha: blobSha,
        size: Buffer.from(content, "base64").length,
        url: `${repoUrl(repo)}/contents/${filePath}?ref=${branch}`,
        type: "file",
      },
      commit: gitCommitJson(repo, commit),
    });
  }

  const routes = [
    ...(options.routes ?? []),
    route("GET", "/user", () =>
      json(
        200,
        {
          login: user.login,
          id: user.id,
          node_id: "MDQ6VXNlcjE=",
          avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
          html_url: `https://github.com/${user.login}`,
          type: user.type,
          site_admin: false,
          name: user.name,
        },
        { "x-oauth-scopes": scopes.join(", ") },
      ),
    ),
    route("POST", "/user/repos", (request) => createRepo(request, user.login)),
    // Every repository the token's user can see (theirs and their organisations'), newest first, paginated.
    route("GET", "/user/repos", (request) => {
      const perPage = Math.min(
        100,
        Math.max(1, Number(request.url.searchParams.get("per_page") ?? 30) || 30),
      );
      const page = Math.max(1, Number(request.url.searchParams.get("page") ?? 1) || 1);
      const all = [...repos.values()].reverse();
      return json(200, all.slice((page - 1) * perPage, page * perPage).map(repoJson));
    }),
    route("POST", "/orgs/:org/repos", (request) => {
      const org = request.params.org ?? "";
      const membership = orgs[org];
      if (!membership)
        return githubError(404, "Not Found", `${docs}/repos/repos#create-an-organization-repository`);
      if (membership.canCreateRepos === false)
        return githubError(
          403,
          "Resource not accessible by personal access token",
          `${docs}/repos/repos#create-an-organization-repository`,
        );
      return createRepo(request, org);
    }),
    repoRoute("GET", "", (repo) => json(200, repoJson(repo))),
    repoRoute("DELETE", "", (repo) => {
      if (!scopes.includes("delete_repo"))
        return githubError(
          403,
          "Must have admin rights to Repository.",
          `${docs}/repos/repos#delete-a-repository`,
        );
      repos.delete(keyOf(repo.owner, repo.name));
      return { status: 204, text: "" };
    }),
    repoRoute("PUT", "/contents/:path", (repo, request) => putContents(repo, request)),
    repoRoute("POST", "/git/blobs", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      const body = parseBody(request);
      const content = stringField(body, "content");
      const encoding = stringField(body, "encoding") ?? "utf-8";
      if (content === undefined) return githubError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
      const bytes = encoding === "base64" ? Buffer.from(content, "base64") : Buffer.from(content, "utf8");
      const sha = repo.store.putBlob(bytes);
      return json(201, { url: `${repoUrl(repo)}/git/blobs/${sha}`, sha });
    }),
    repoRoute("GET", "/git/blobs/:sha", (repo, request) => {
      const blob = repo.store.blobs.get(request.params.sha ?? "");
      if (!blob) return githubError(404, "Not Found");
      return json(200, {
        sha: request.params.sha,
        size: blob.length,
        content: blob.toString("base64"),
        encoding: "base64",
        url: `${repoUrl(repo)}/git/blobs/${request.params.sha}`,
      });
    }),
    repoRoute("POST", "/git/trees", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      return createTree(repo, parseBody(request));
    }),
    repoRoute("GET", "/git/trees/:sha", (repo, request) => {
      const sha = resolveTreeish(repo, request.params.sha ?? "");
      if (!sha) return githubError(404, "Not Found");
      const recursive = request.url.searchParams.has("recursive");
      return json(200, treeJson(repo, sha, recursive));
    }),
    repoRoute("POST", "/git/commits", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      return createCommit(repo, parseBody(request));
    }),
    repoRoute("GET", "/git/commits/:sha", (repo, request) => {
      const commit = repo.store.commits.get(request.params.sha ?? "");
      if (!commit) return githubError(404, "Not Found");
      return json(200, gitCommitJson(repo, commit));
    }),
    repoRoute("POST", "/git/refs", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      const body = parseBody(request);
      const ref = stringField(body, "ref") ?? "";
      const sha = stringField(body, "sha") ?? "";
      if (!/^refs\/[^/]+\/.+/.test(ref) || !isValidPath(ref))
        return githubError(422, "Reference name must start with 'refs/' and have at least two slashes.");
      if (repo.refs.has(ref)) return githubError(422, "Reference already exists");
      if (!repo.store.commits.has(sha)) return githubError(422, "Object does not exist");
      repo.refs.set(ref, sha);
      return json(201, refJson(repo, ref, sha));
    }),
    repoRoute("GET", "/git/ref/:ref", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      const ref = `refs/${request.params.ref ?? ""}`;
      const sha = repo.refs.get(ref);
      if (!sha) return githubError(404, "Not Found", `${docs}/git/refs#get-a-reference`);
      return json(200, refJson(repo, ref, sha));
    }),
    repoRoute("PATCH", "/git/refs/:ref", (repo, request) => {
      const ref = `refs/${request.params.ref ?? ""}`;
      const body = parseBody(request);
      const sha = stringField(body, "sha") ?? "";
      const current = repo.refs.get(ref);
      if (!current) return githubError(422, "Reference does not exist");
      if (!repo.store.commits.has(sha)) return githubError(422, "Object does not exist");
      if (objectField(body, "force") !== true && !repo.store.isAncestor(current, sha))
        return githubError(422, "Update is not a fast forward");
      repo.refs.set(ref, sha);
      return json(200, refJson(repo, ref, sha));
    }),
    repoRoute("GET", "/branches", (repo, request) => {
      const perPage = Math.min(
        100,
        Math.max(1, Number(request.url.searchParams.get("per_page") ?? 30) || 30),
      );
      const page = Math.max(1, Number(request.url.searchParams.get("page") ?? 1) || 1);
      const branches = [...repo.refs]
        .filter(([ref]) => ref.startsWith("refs/heads/"))
        .map(([ref, sha]) => ({ name: ref.slice("refs/heads/".length), sha }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const slice = branches.slice((page - 1) * perPage, page * perPage);
      const lastPage = Math.max(1, Math.ceil(branches.length / perPage));
      const link = (n: number, rel: string) =>
        `<${repoUrl(repo)}/branches?per_page=${perPage}&page=${n}>; rel="${rel}"`;
      const links = page < lastPage ? [link(page + 1, "next"), link(lastPage, "last")] : [];
      return json(
        200,
        slice.map((branch) => ({
          name: branch.name,
          commit: { sha: branch.sha, url: `${repoUrl(repo)}/commits/${branch.sha}` },
          protected: false,
        })),
        links.length > 0 ? { link: links.join(", ") } : {},
      );
    }),
    repoRoute("GET", "/commits/:ref", (repo, request) => {
      if (isEmpty(repo)) return emptyRepo();
      const ref = request.params.ref ?? "";
      const sha = resolve(repo, ref);
      const commit = sha ? repo.store.commits.get(sha) : undefined;
      if (!commit)
        return githubError(422, `No commit found for SHA: ${ref}`, `${docs}/commits/commits#get-a-commit`);
      if ((request.header("accept") ?? "").includes("application/vnd.github.sha"))
        return {
          status: 200,
          text: commit.sha,
          headers: { "content-type": "application/vnd.github.sha; charset=utf-8" },
        };
      return json(200, {
        sha: commit.sha,
        node_id: `C_${commit.sha.slice(0, 12)}`,
        commit: {
          author: commit.author,
          committer: commit.committer,
          message: commit.message,
          tree: { sha: commit.tree, url: `${repoUrl(repo)}/git/trees/${commit.tree}` },
          url: `${repoUrl(repo)}/git/commits/${commit.sha}`,
          comment_count: 0,
        },
        url: `${repoUrl(repo)}/commits/${commit.sha}`,
        html_url: `https://github.com/${repo.owner}/${repo.name}/commit/${commit.sha}`,
        parents: commit.parents.map((parent) => ({ sha: parent, url: `${repoUrl(repo)}/commits/${parent}` })),
      });
    }),
    repoRoute("GET", "/tarball/:ref", (repo, request) => {
      const sha = isEmpty(repo) ? undefined : resolve(repo, request.params.ref ?? "");
      if (!sha)
        return githubError(404, "Not Found", `${docs}/repos/contents#download-a-repository-archive-tar`);
      const token = randomBytes(16).toString("hex");
      downloads.set(token, { repo, sha, expires: Date.now() + 5 * 60_000 });
      return {
        status: 302,
        text: "",
        headers: {
          location: `${codeload.url}/${repo.owner}/${repo.name}/legacy.tar.gz/${sha}?token=${token}`,
        },
      };
    }),
  ];

  function resolveTreeish(repo: RepoState, sha: string): string | undefined {
    if (repo.store.trees.has(sha)) return sha;
    const commit = repo.store.commits.get(resolve(repo, sha) ?? "");
    return commit?.tree;
  }

  const codeload = await startCodeload(async (pathname, token) => {
    const download = downloads.get(token);
    const expected = download
      ? `/${download.repo.owner}/${download.repo.name}/legacy.tar.gz/${download.sha}`
      : "";
    if (!download || download.expires < Date.now() || pathname !== expected) return undefined;
    const commit = download.repo.store.commits.get(download.sha);
    if (!commit) return undefined;
    const topDir = `${download.repo.owner}-${download.repo.name}-${download.sha.slice(0, 7)}`;
    return { body: await tarball(download.repo.store, commit.tree, topDir), filename: `${topDir}.tar.gz` };
  });

  const api = await startFakeHttpServer(async (request) => {
    apiBase = `http://${request.header("host") ?? "127.0.0.1"}`;
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const authorization = request.header("authorization");
    if (!authorization) {
      return githubError(401, "Requires authentication", `${docs}/users/users#get-the-authenticated-user`);
    }
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization);
    if (match?.[1] !== options.token) return githubError(401, "Bad credentials");
    if (rateLimitRemaining !== undefined) {
      if (rateLimitRemaining <= 0) {
        const reply = githubError(
          403,
          `API rate limit exceeded for user ID ${user.id}. If you reach out to GitHub Support for help, please include the request ID.`,
          "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        );
        return { ...reply, headers: { ...commonHeaders() } };
      }
      rateLimitRemaining -= 1;
    }
    const reply = (await dispatch(routes, request)) ?? githubError(404, "Not Found");
    if ("status" in reply) return { ...reply, headers: { ...commonHeaders(), ...reply.headers } };
    return reply;
  });

  return {
    url: api.url,
    requests: api.requests,
    codeloadUrl: codeload.url,
    codeloadRequests: codeload.requests,
    async close() {
      await Promise.all([api.close(), codeload.close()]);
    },
    repo(fullName) {
      return repos.get(fullName.toLowerCase());
    },
    commit(fullName, sha) {
      return repos.get(fullName.toLowerCase())?.store.commits.get(sha);
    },
    files(fullName, treeSha) {
      return repos.get(fullName.toLowerCase())?.store.flatten(treeSha) ?? new Map();
    },
    blob(fullName, sha) {
      return repos.get(fullName.toLowerCase())?.store.blobs.get(sha);
    },
  };
}

/** codeload.github.com: serves archives by a short-lived token in the URL, without any Authorization header. */
async function startCodeload(
  serve: (pathname: string, token: string) => Promise<{ body: Buffer; filename: string } | undefined>,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://codeload.local");
    requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body: "" });
    serve(url.pathname, url.searchParams.get("token") ?? "")
      .then((archive) => {
        if (!archive) {
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
          res.end("404: Not Found");
          return;
        }
        res.writeHead(200, {
          "content-type": "application/x-gzip",
          "content-disposition": `attachment; filename=${archive.filename}`,
          "content-length": String(archive.body.length),
        });
        res.end(archive.body);
      })
      .catch((error: unknown) => {
        console.error("fake codeload failed", error);
        res.writeHead(599, { "content-type": "text/plain" });
        res.end(`fake codeload failed: ${String(error)}`);
      });
  });
  const { url, close } = await listenOnLoopback(server);
  return { url, requests, close };
}
