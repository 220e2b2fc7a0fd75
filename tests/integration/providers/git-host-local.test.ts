import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitCli } from "../../../src/server/integrations/git-host/git-cli";
import { readCommit } from "../../../src/server/integrations/git-host/git-objects";
import { createLocalGitHost } from "../../../src/server/integrations/git-host/local";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeGitHostContract, makeTemplate, readFiles } from "../../contracts/git-host";
import { rejectionOf } from "../../helpers/errors";

const inspector = createGitCli();

describeGitHostContract("local", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-git-local-"));
  return {
    host: createLocalGitHost({ root: path.join(root, "git") }),
    async inspectCommit(repo, sha) {
      const commit = await readCommit(inspector, repo.webUrl, sha);
      if (!commit) throw new Error(`commit ${sha} is missing from ${repo.webUrl}`);
      return { tree: commit.tree, parents: commit.parents, message: commit.message, author: commit.author };
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
});

describe("local git host specifics", () => {
  let work: string;
  let templateDir: string;
  const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "kiln-git-local-specific-"));
    templateDir = path.join(work, "template");
    await makeTemplate(templateDir);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function bundleOf(dir: string, edit: (dir: string) => Promise<void>): Promise<string> {
    await sandboxGit.run(["init", "--quiet", "--initial-branch=main"], { cwd: dir });
    await edit(dir);
    await sandboxGit.run(["add", "--all"], { cwd: dir });
    await sandboxGit.run(["commit", "--quiet", "-m", "work"], { cwd: dir });
    await sandboxGit.run(["bundle", "create", "--quiet", `${dir}.bundle`, "--all"], { cwd: dir });
    return `${dir}.bundle`;
  }

  it("keeps bare repositories at <root>/<name>.git and leaves no staging directories behind", async () => {
    const root = path.join(work, "layout");
    const host = createLocalGitHost({ root });
    const { repo } = await host.createRepo({ name: "todo", templateDir });
    expect(repo).toMatchObject({ host: "local", fullName: "todo", webUrl: path.join(root, "todo.git") });
    expect((await stat(path.join(root, "todo.git", "HEAD"))).isFile()).toBe(true);
    expect(await readdir(root)).toEqual(["todo.git"]);
    // No sample hooks: the repository runs nothing of its own.
    expect(await readdir(path.join(root, "todo.git", "hooks")).catch(() => [])).toEqual([]);
  });

  it("creates the same repository once when asked concurrently", async () => {
    const host = createLocalGitHost({ root: path.join(work, "concurrent") });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => host.createRepo({ name: "same", templateDir })),
    );
    const shas = new Set(results.map((result) => result.initialSha));
    expect(shas.size).toBe(1);
    const first = results[0];
    if (!first) throw new Error("no result");
    expect(await host.listBranches(first.repo)).toHaveLength(1);
    expect(await readdir(path.join(work, "concurrent"))).toEqual(["same.git"]);
  });

  it("exports committed bytes exactly, whatever the app's .gitattributes asks", async () => {
    const host = createLocalGitHost({ root: path.join(work, "attributes") });
    const { repo, initialSha } = await host.createRepo({ name: "attrs", templateDir });
    const start = path.join(work, "attributes-sandbox");
    await host.exportTree(repo, initialSha, start);
    const bundlePath = await bundleOf(start, async (dir) => {
      await writeFile(
        path.join(dir, ".gitattributes"),
        "* text eol=crlf\nsecret.txt export-ignore\n$Id$ ident\n",
      );
      await writeFile(path.join(dir, "secret.txt"), "line one\nline two\n");
    });
    const { sha } = await host.commitFromBundle(repo, {
      branch: "main",
      parentSha: initialSha,
      bundlePath,
      message: "attributes",
      author: { name: "A", email: "a@example.com" },
    });
    const out = path.join(work, "attributes-out");
    await host.exportTree(repo, sha, out);
    expect(await readFile(path.join(out, "secret.txt"), "utf8")).toBe("line one\nline two\n");
  });

  it("refuses bundles over the size limit", async () => {
    const host = createLocalGitHost({ root: path.join(work, "limits"), maxBundleBytes: 1024 });
    const { repo, initialSha } = await host.createRepo({ name: "small", templateDir });
    const dir = path.join(work, "limits-sandbox");
    await host.exportTree(repo, initialSha, dir);
    const bundlePath = await bundleOf(dir, async (sandbox) => {
      await writeFile(
        path.join(sandbox, "big.bin"),
        Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251)),
      );
    });
    const error = await rejectionOf(
      host.commitFromBundle(repo, {
        branch: "main",
        parentSha: initialSha,
        bundlePath,
        message: "big",
        author: { name: "A", email: "a@example.com" },
      }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ vendor: "local-git", kind: "invalid" });
    expect(String(error)).toMatch(/over the .* limit/);
    expect(await host.resolveRef(repo, "main")).toBe(initialSha);
  });

  it("removes the quarantine refs of refused and accepted bundles", async () => {
    const root = path.join(work, "quarantine");
    const host = createLocalGitHost({ root });
    const { repo, initialSha } = await host.createRepo({ name: "q", templateDir });
    const dir = path.join(work, "quarantine-sandbox");
    await host.exportTree(repo, initialSha, dir);
    const bundlePath = await bundleOf(dir, async (sandbox) => {
      await writeFile(path.join(sandbox, "x.txt"), "x\n");
    });
    await host.commitFromBundle(repo, {
      branch: "main",
      parentSha: initialSha,
      bundlePath,
      message: "x",
      author: { name: "A", email: "a@example.com" },
    });
    const refs = await inspector.run(["for-each-ref", "--format=%(refname)"], { gitDir: repo.webUrl });
    expect(refs.toString().trim().split("\n")).toEqual(["refs/heads/main"]);
  });

  it("reports a repository that is missing from disk as not_found with the root in the message", async () => {
    const root = path.join(work, "gone");
    const host = createLocalGitHost({ root });
    const error = await rejectionOf(
      host.listBranches({ host: "local", fullName: "ghost", webUrl: "/elsewhere", defaultBranch: "main" }),
    );
    expect(error).toMatchObject({ kind: "not_found" });
    expect(String(error)).toContain(root);
    const foreign = await rejectionOf(
      host.listBranches({
        host: "github",
        fullName: "o/r",
        webUrl: "https://github.com/o/r",
        defaultBranch: "main",
      }),
    );
    expect(foreign).toMatchObject({ kind: "invalid" });
  });

  it("runs git without the platform's environment or the user's git config", async () => {
    const saved = { ...process.env };
    const home = path.join(work, "leaky-home");
    await mkdir(home, { recursive: true });
    await writeFile(
      path.join(home, ".gitconfig"),
      "[user]\n\tname = Leaky User\n[alias]\n\tx = !touch /tmp/pwned\n",
    );
    process.env.HOME = home;
    process.env.GIT_CONFIG_PARAMETERS = "'core.hookspath'='/tmp/evil-hooks'";
    process.env.KILN_SECRET_FOR_TEST = "s3cr3t-value";
    try {
      const git = createGitCli();
      const config = (await git.run(["config", "--list", "--show-origin"])).toString();
      expect(config).not.toContain("Leaky");
      expect(config).not.toContain("evil-hooks");
      const ident = (await git.run(["var", "GIT_COMMITTER_IDENT"])).toString();
      expect(ident).toMatch(/^Kiln <kiln@localhost>/);
      const files = await readFiles(path.join(work, "leaky-home"));
      expect([...files.keys()]).toEqual([".gitconfig"]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
