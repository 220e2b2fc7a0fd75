import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitCli } from "../../../src/server/integrations/git-host/git-cli";
import { createGitHubGitHost } from "../../../src/server/integrations/git-host/github";
import type { GitHost, RepoRef } from "../../../src/server/integrations/git-host/port";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeGitHostContract, makeTemplate } from "../../contracts/git-host";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../../fakes/github";
import { type FakeInterceptor, json } from "../../fakes/http";
import { rejectionOf } from "../../helpers/errors";

const token = "ghp_KilnPlantedSecret0123456789abcdefXYZ";

describeGitHostContract("github (wire fake)", async () => {
  const fake = await startFakeGitHub({ token, scopes: ["repo", "delete_repo"] });
  return {
    host: createGitHubGitHost({ token, apiUrl: fake.url, timeoutMs: 5000 }),
    async inspectCommit(repo, sha) {
      const commit = fake.commit(repo.fullName, sha);
      if (!commit) throw new Error(`commit ${sha} is missing from ${repo.fullName}`);
      return {
        tree: commit.tree,
        parents: commit.parents,
        message: commit.message,
        author: { name: commit.author.name, email: commit.author.email },
      };
    },
    close: () => fake.close(),
  };
});

describe("GitHub git host specifics", () => {
  let work: string;
  let templateDir: string;
  const fakes: FakeGitHub[] = [];
  const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });
  let counter = 0;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "kiln-git-github-"));
    templateDir = path.join(work, "template");
    await makeTemplate(templateDir);
  });
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function start(options: Partial<FakeGitHubOptions> = {}, hostOptions: { timeoutMs?: number } = {}) {
    const fake = await startFakeGitHub({ token, scopes: ["repo", "delete_repo"], ...options });
    fakes.push(fake);
    const host = createGitHubGitHost({ token, apiUrl: fake.url, timeoutMs: hostOptions.timeoutMs ?? 5000 });
    return { fake, host };
  }

  async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
    const error = await rejectionOf(promise);
    if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
    expect(error.vendor).toBe("github");
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(error)).not.toContain(token);
    return error;
  }

  async function sandbox(host: GitHost, repo: RepoRef, sha: string, edit: (dir: string) => Promise<void>) {
    const dir = path.join(work, `sandbox-${++counter}`);
    await host.exportTree(repo, sha, dir);
    await sandboxGit.run(["init", "--quiet", "--initial-branch=main"], { cwd: dir });
    await sandboxGit.run(["add", "--all"], { cwd: dir });
    await sandboxGit.run(["commit", "--quiet", "-m", "start"], { cwd: dir });
    await edit(dir);
    await sandboxGit.run(["add", "--all"], { cwd: dir });
    await sandboxGit.run(["commit", "--quiet", "-m", "work"], { cwd: dir });
    const headTree = (await sandboxGit.run(["rev-parse", "HEAD^{tree}"], { cwd: dir })).toString().trim();
    await sandboxGit.run(["bundle", "create", "--quiet", `${dir}.bundle`, "--all"], { cwd: dir });
    return { dir, bundlePath: `${dir}.bundle`, headTree };
  }

  async function allText(dir: string): Promise<string> {
    const parts: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) parts.push(await readFile(path.join(entry.parentPath, entry.name), "latin1"));
    }
    return parts.join("\n");
  }

  it("bootstraps the empty repository through the Contents API, as real GitHub requires", async () => {
    const { fake, host } = await start();
    const { repo, initialSha } = await host.createRepo({ name: "fresh", templateDir, description: "Todo" });
    expect(repo).toEqual({
      host: "github",
      fullName: "octocat/fresh",
      webUrl: "https://github.com/octocat/fresh",
      defaultBranch: "main",
    });
    const calls = fake.requests.map((request) => `${request.method} ${request.path.split("?")[0]}`);
    const contents = calls.indexOf("PUT /repos/octocat/fresh/contents/.kiln-bootstrap");
    const firstBlob = calls.indexOf("POST /repos/octocat/fresh/git/blobs");
    expect(calls[0]).toBe("POST /user/repos");
    expect(contents).toBeGreaterThan(0);
    expect(firstBlob).toBeGreaterThan(contents);
    // The template commit replaces the bootstrap commit as the root of the branch.
    expect(fake.commit("octocat/fresh", initialSha)?.parents).toEqual([]);
    expect([
      ...fake.files("octocat/fresh", fake.commit("octocat/fresh", initialSha)?.tree ?? "").keys(),
    ]).not.toContain(".kiln-bootstrap");
    const body = JSON.parse(fake.requests.find((r) => r.path === "/user/repos")?.body ?? "{}");
    expect(body).toMatchObject({ name: "fresh", private: true, auto_init: false, description: "Todo" });
  });

  it("the fake refuses the Git Data API on an empty repository with 409, like GitHub", async () => {
    const { fake } = await start();
    const headers = { authorization: `token ${token}`, "content-type": "application/json" };
    await fetch(`${fake.url}/user/repos`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "empty" }),
    });
    const blob = await fetch(`${fake.url}/repos/octocat/empty/git/blobs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ content: "aGk=", encoding: "base64" }),
    });
    expect(blob.status).toBe(409);
    expect(await blob.json()).toMatchObject({ message: "Git Repository is empty." });
  });

  it("finishes a repository left empty by an interrupted create, and refuses to adopt a stranger's repository", async () => {
    const { fake, host } = await start();
    const headers = { authorization: `token ${token}`, "content-type": "application/json" };
    await fetch(`${fake.url}/user/repos`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "half" }),
    });
    const { initialSha } = await host.createRepo({ name: "half", templateDir });
    expect(fake.repo("octocat/half")?.refs.get("refs/heads/main")).toBe(initialSha);

    await fetch(`${fake.url}/user/repos`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "theirs", auto_init: true }),
    });
    const error = await providerError(host.createRepo({ name: "theirs", templateDir }));
    expect(error.kind).toBe("conflict");
    expect(error.message).toContain("octocat/theirs already exists");
  });

  it("creates repositories in an organisation, and says which permission is missing when it cannot", async () => {
    const { fake, host } = await start({ orgs: { acme: {}, locked: { canCreateRepos: false } } });
    const { repo } = await host.createRepo({ name: "org-app", templateDir, owner: "acme" });
    expect(repo.fullName).toBe("acme/org-app");
    expect(fake.requests.some((request) => request.path === "/orgs/acme/repos")).toBe(true);

    const forbidden = await providerError(host.createRepo({ name: "org-app", templateDir, owner: "locked" }));
    expect(forbidden.kind).toBe("forbidden");
    expect(forbidden.message).toContain("cannot create repositories in org locked");
    expect(forbidden.message).toContain("Administration: write");

    const missing = await providerError(host.createRepo({ name: "org-app", templateDir, owner: "nowhere" }));
    expect(missing.kind).toBe("not_found");
    expect(missing.message).toContain("organisation nowhere");
  });

  it("builds exactly the bundle's tree on GitHub: the new commit's tree sha is the sandbox's HEAD tree sha", async () => {
    const { fake, host } = await start();
    const { repo, initialSha } = await host.createRepo({ name: "handoff", templateDir });
    const { bundlePath, headTree } = await sandbox(host, repo, initialSha, async (dir) => {
      await writeFile(path.join(dir, "README.md"), "# changed\n");
      await rm(path.join(dir, "src", "logo.bin"));
    });
    fake.requests.length = 0;
    const { sha } = await host.commitFromBundle(repo, {
      branch: "main",
      parentSha: initialSha,
      bundlePath,
      message: "change",
      author: { name: "Ada", email: "ada@example.com" },
    });
    expect(fake.commit("octocat/handoff", sha)?.tree).toBe(headTree);
    // Only what changed travels: one blob, one tree on top of the parent's, one commit, one ref update.
    const writes = fake.requests
      .filter((request) => request.method !== "GET")
      .map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual([
      "POST /repos/octocat/handoff/git/blobs",
      "POST /repos/octocat/handoff/git/trees",
      "POST /repos/octocat/handoff/git/commits",
      "PATCH /repos/octocat/handoff/git/refs/heads%2Fmain",
    ]);
    const treeBody = JSON.parse(fake.requests.find((r) => r.path.endsWith("/git/trees"))?.body ?? "{}");
    expect(treeBody.base_tree).toBe(fake.commit("octocat/handoff", initialSha)?.tree);
    expect(treeBody.tree).toEqual(
      expect.arrayContaining([
        { path: "src/logo.bin", mode: "100644", type: "blob", sha: null },
        expect.objectContaining({ path: "README.md", mode: "100644", type: "blob" }),
      ]),
    );
    const patch = JSON.parse(fake.requests.find((r) => r.method === "PATCH")?.body ?? "{}");
    expect(patch).toEqual({ sha, force: false });
  });

  it("moves no branch when GitHub builds a different tree than the bundle's", async () => {
    // A tree answer that does not match the bundle (a lost entry, a changed file) must stop the handoff.
    const { fake, host } = await start({
      intercept: (request) =>
        request.method === "POST" &&
        request.url.pathname.endsWith("/git/trees") &&
        request.body.includes("base_tree")
          ? json(201, { sha: "f".repeat(40), url: "x", tree: [], truncated: false })
          : undefined,
    });
    const { repo, initialSha } = await host.createRepo({ name: "mismatch", templateDir });
    const { bundlePath } = await sandbox(host, repo, initialSha, async (dir) => {
      await writeFile(path.join(dir, "new.txt"), "new\n");
    });
    const error = await providerError(
      host.commitFromBundle(repo, {
        branch: "main",
        parentSha: initialSha,
        bundlePath,
        message: "m",
        author: { name: "A", email: "a@example.com" },
      }),
    );
    expect(error.kind).toBe("internal");
    expect(error.message).toContain("nothing was committed");
    expect(
      fake.requests.some((request) => request.path.endsWith("/git/commits") && request.method === "POST"),
    ).toBe(true);
    expect(fake.repo("octocat/mismatch")?.refs.get("refs/heads/main")).toBe(initialSha);
  });

  it("never lets the token reach an exported file or the archive download", async () => {
    const { fake, host } = await start();
    const { repo, initialSha } = await host.createRepo({ name: "no-leak", templateDir });
    const dest = path.join(work, "no-leak-export");
    await host.exportTree(repo, initialSha, dest);
    expect(await allText(dest)).not.toContain(token);
    expect(fake.codeloadRequests).toHaveLength(1);
    const download = fake.codeloadRequests[0];
    expect(download?.headers.authorization).toBeUndefined();
    expect(download?.path).not.toContain(token);
    expect(JSON.stringify(download?.headers)).not.toContain(token);
  });

  it("sends every API call through the injected fetch", async () => {
    const { fake } = await start();
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const host = createGitHubGitHost({ token, apiUrl: fake.url, fetch: counting });
    await host.createRepo({ name: "via-fetch", templateDir });
    expect(calls).toBeGreaterThan(3);
    expect(calls).toBe(fake.requests.length);
  });

  it("lists every branch across pages", async () => {
    const { host } = await start();
    const { repo, initialSha } = await host.createRepo({ name: "many", templateDir });
    const names = Array.from({ length: 104 }, (_, index) => `b-${String(index).padStart(3, "0")}`);
    for (const name of names) await host.createBranch(repo, name, initialSha);
    const branches = await host.listBranches(repo);
    expect(branches).toHaveLength(105);
    expect(branches.map((branch) => branch.name).sort()).toEqual([...names, "main"].sort());
  });

  describe("vendor faults", () => {
    const repo: RepoRef = {
      host: "github",
      fullName: "octocat/faulty",
      webUrl: "https://github.com/octocat/faulty",
      defaultBranch: "main",
    };

    async function listWith(intercept: FakeInterceptor, timeoutMs = 5000) {
      const { fake, host } = await start({ intercept }, { timeoutMs });
      const error = await providerError(host.listBranches(repo));
      const attempts = fake.requests.filter((request) =>
        request.path.startsWith("/repos/octocat/faulty/branches"),
      );
      return { error, attempts: attempts.length };
    }

    const reply =
      (status: number, message: string, headers: Record<string, string> = {}): FakeInterceptor =>
      () =>
        json(status, { message, documentation_url: "https://docs.github.com/rest" }, headers);

    it("401 → auth, pointing at Settings", async () => {
      const { fake } = await start();
      const wrongToken = "ghp_wrong_token_0000";
      const wrong = createGitHubGitHost({ token: wrongToken, apiUrl: fake.url, timeoutMs: 5000 });
      const error = await providerError(wrong.listBranches(repo));
      expect(error).toMatchObject({ kind: "auth", status: 401, retryable: false });
      expect(error.message).toContain("GitHub rejected the token");
      expect(error.message).toContain("Settings");
      expect(error.message).not.toContain(wrongToken);
    });

    it("403 → forbidden, naming the permission", async () => {
      const { error, attempts } = await listWith(
        reply(403, "Resource not accessible by personal access token"),
      );
      expect(error).toMatchObject({ kind: "forbidden", status: 403, retryable: false });
      expect(error.message).toContain("Contents: write");
      expect(attempts).toBe(1);
    });

    it("403 with x-ratelimit-remaining: 0 → rate_limited with the reset time", async () => {
      const { host } = await start({ rateLimitRemaining: 0 });
      const error = await providerError(host.listBranches(repo));
      expect(error).toMatchObject({ kind: "rate_limited", status: 403, retryable: true });
      expect(error.retryAfterMs).toBeGreaterThan(50 * 60_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(3600_000);
      expect(error.message).toContain("rate limit");
    });

    it("secondary rate limit (403 + retry-after) and 429 → rate_limited", async () => {
      const secondary = await listWith(
        reply(403, "You have exceeded a secondary rate limit", { "retry-after": "30" }),
      );
      expect(secondary.error).toMatchObject({ kind: "rate_limited", retryAfterMs: 30_000 });
      const tooMany = await listWith(reply(429, "Too Many Requests"));
      expect(tooMany.error).toMatchObject({ kind: "rate_limited", status: 429, retryable: true });
    });

    it("404 → not_found", async () => {
      const { error } = await listWith(reply(404, "Not Found"));
      expect(error).toMatchObject({ kind: "not_found", status: 404 });
      expect(error.message).toContain("octocat/faulty");
    });

    it("409 → conflict and 422 → invalid, quoting GitHub", async () => {
      const conflict = await listWith(reply(409, "Git Repository is empty."));
      expect(conflict.error).toMatchObject({ kind: "conflict", status: 409 });
      expect(conflict.error.message).toContain("Git Repository is empty.");
      const invalid = await listWith(reply(422, "Validation Failed"));
      expect(invalid.error).toMatchObject({ kind: "invalid", status: 422 });
      expect(invalid.error.message).toContain("Validation Failed");
    });

    it("5xx → unavailable after a bounded number of retries of an idempotent read", async () => {
      for (const status of [500, 502, 503]) {
        const { error, attempts } = await listWith(reply(status, "Server Error"));
        expect(error).toMatchObject({ kind: "unavailable", status, retryable: true });
        expect(error.message).toContain("retry later");
        expect(attempts).toBe(3);
      }
    });

    it("a write is not retried on 5xx", async () => {
      const { fake, host } = await start({
        intercept: (request) => (request.method === "POST" ? reply(502, "Bad Gateway")(request) : undefined),
      });
      const error = await providerError(host.createRepo({ name: "once", templateDir }));
      expect(error.kind).toBe("unavailable");
      expect(fake.requests.filter((request) => request.method === "POST")).toHaveLength(1);
    });

    it("a hanging GitHub → timeout", async () => {
      const started = Date.now();
      const { error, attempts } = await listWith(() => ({ hang: true }), 250);
      expect(error).toMatchObject({ kind: "timeout", retryable: true });
      expect(error.message).toContain("did not answer");
      expect(attempts).toBe(3);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("an unreachable API URL → unavailable", async () => {
      const host = createGitHubGitHost({ token, apiUrl: "http://127.0.0.1:9", timeoutMs: 2000 });
      const error = await providerError(host.listBranches(repo));
      expect(error.kind).toBe("unavailable");
      expect(error.message).toContain("Could not reach GitHub at 127.0.0.1:9");
    });

    it("scrubs the token even when GitHub echoes it back", async () => {
      const { error } = await listWith((request) =>
        json(422, { message: `Bad header: ${request.header("authorization")}` }),
      );
      expect(error.kind).toBe("invalid");
      expect(error.message).toContain("[redacted]");
    });

    it("an answer of the wrong shape → internal", async () => {
      const { error } = await listWith(() => json(200, { not: "a list" }));
      expect(error.kind).toBe("internal");
      expect(error.message).toContain("unexpected shape");
    });
  });
});
