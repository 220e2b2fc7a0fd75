import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitCli } from "../../src/server/integrations/git-host/git-cli";
import type { CommitAuthor, GitHost, RepoRef } from "../../src/server/integrations/git-host/port";
import { ProviderError } from "../../src/server/integrations/provider-error";
import { rejectionOf } from "../helpers/errors";

/**
 * The GitHost contract: every adapter must pass these same assertions. The sandbox side is played for real — an
 * exported commit becomes a fresh git repository, is edited and committed, and handed back as a bundle.
 */

export type CommitFacts = { tree: string; parents: string[]; message: string; author: CommitAuthor };

export type GitHostHarness = {
  host: GitHost;
  /** Reads a commit from the host's own storage (not through the port), to check what really landed. */
  inspectCommit(repo: RepoRef, sha: string): Promise<CommitFacts>;
  /** Owner passed to createRepo, if the adapter uses one. */
  owner?: string;
  close(): Promise<void>;
};

export type FileFacts =
  | { type: "file"; content: string; executable: boolean }
  | { type: "link"; target: string };

const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });
const author: CommitAuthor = { name: "Ada Lovelace", email: "ada@example.com" };

/** Every file and symlink under `dir`, by relative path (contents base64, so binary files compare too). */
export async function readFiles(dir: string): Promise<Map<string, FileFacts>> {
  const files = new Map<string, FileFacts>();
  async function walk(relative: string) {
    for (const name of await readdir(path.join(dir, relative))) {
      const child = relative ? `${relative}/${name}` : name;
      const full = path.join(dir, child);
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) files.set(child, { type: "link", target: await readlink(full) });
      else if (stats.isDirectory()) await walk(child);
      else
        files.set(child, {
          type: "file",
          content: (await readFile(full)).toString("base64"),
          executable: (stats.mode & 0o100) !== 0,
        });
    }
  }
  await walk("");
  return files;
}

const binary = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

/** A small app template: ignored files (node_modules/, .env) must never be committed. */
export async function makeTemplate(dir: string): Promise<void> {
  await mkdir(path.join(dir, "src", "app"), { recursive: true });
  await mkdir(path.join(dir, "node_modules", "left-pad"), { recursive: true });
  await mkdir(path.join(dir, "scripts"), { recursive: true });
  await writeFile(path.join(dir, ".gitignore"), "node_modules/\n.env\n");
  await writeFile(path.join(dir, "package.json"), '{ "name": "app", "private": true }\n');
  await writeFile(path.join(dir, "README.md"), "# App\n");
  await writeFile(
    path.join(dir, "src", "app", "page.tsx"),
    "export default function Page() { return null; }\n",
  );
  await writeFile(path.join(dir, "src", "logo.bin"), binary);
  await writeFile(path.join(dir, "scripts", "dev.sh"), "#!/bin/sh\nexec next dev\n");
  await chmod(path.join(dir, "scripts", "dev.sh"), 0o755);
  await symlink("app/page.tsx", path.join(dir, "src", "entry.tsx"));
  await writeFile(path.join(dir, "node_modules", "x.js"), "module.exports = 1;\n");
  await writeFile(path.join(dir, "node_modules", "left-pad", "index.js"), "module.exports = 2;\n");
  await writeFile(path.join(dir, ".env"), "SECRET=do-not-commit\n");
}

const templateFiles = [".gitignore", "README.md", "package.json", "scripts/dev.sh", "src/app/page.tsx"]
  .concat(["src/entry.tsx", "src/logo.bin"])
  .sort();

function sorted(files: Map<string, FileFacts>): string[] {
  return [...files.keys()].sort();
}

export function describeGitHostContract(label: string, setup: () => Promise<GitHostHarness>): void {
  describe(`GitHost contract: ${label}`, () => {
    let harness: GitHostHarness;
    let host: GitHost;
    let work: string;
    let templateDir: string;
    let counter = 0;

    beforeAll(async () => {
      harness = await setup();
      host = harness.host;
      work = await mkdtemp(path.join(os.tmpdir(), "kiln-git-contract-"));
      templateDir = path.join(work, "template");
      await makeTemplate(templateDir);
    });

    afterAll(async () => {
      await harness?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    const scratch = (name: string) => path.join(work, `${name}-${++counter}`);

    async function newRepo(name: string) {
      return host.createRepo({
        name: `${name}-${++counter}`,
        templateDir,
        description: "contract test",
        owner: harness.owner,
      });
    }

    /** Plays the sandbox: exports `sha`, commits it as-is, lets `edit` change files, commits, bundles. */
    async function sandboxBundle(
      repo: RepoRef,
      sha: string,
      edit: (dir: string) => Promise<void>,
      options: { beforeFirstCommit?: (dir: string) => Promise<void> } = {},
    ): Promise<{ bundlePath: string; headTree: string }> {
      const dir = scratch("sandbox");
      await host.exportTree(repo, sha, dir);
      await options.beforeFirstCommit?.(dir);
      await sandboxGit.run(["init", "--quiet", "--initial-branch=main"], { cwd: dir });
      await sandboxGit.run(["add", "--all"], { cwd: dir });
      await sandboxGit.run(["commit", "--quiet", "--allow-empty", "-m", "start"], { cwd: dir });
      await edit(dir);
      await sandboxGit.run(["add", "--all"], { cwd: dir });
      await sandboxGit.run(["commit", "--quiet", "--allow-empty", "-m", "agent work"], { cwd: dir });
      const headTree = (await sandboxGit.run(["rev-parse", "HEAD^{tree}"], { cwd: dir })).toString().trim();
      const bundlePath = `${dir}.bundle`;
      await sandboxGit.run(["bundle", "create", "--quiet", bundlePath, "--all"], { cwd: dir });
      return { bundlePath, headTree };
    }

    async function expectProviderError(promise: Promise<unknown>, kind: string): Promise<ProviderError> {
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(ProviderError);
      if (!(error instanceof ProviderError)) throw error;
      expect(error.kind).toBe(kind);
      expect(error.message.length).toBeGreaterThan(20);
      return error;
    }

    it("creates a repository whose first commit holds the template minus ignored files, idempotently", async () => {
      const name = `app-${++counter}`;
      const first = await host.createRepo({ name, templateDir, owner: harness.owner });
      expect(first.repo.host).toBe(host.kind);
      expect(first.repo.fullName.endsWith(name)).toBe(true);
      expect(first.initialSha).toMatch(/^[0-9a-f]{40}$/);
      expect(await host.resolveRef(first.repo, first.repo.defaultBranch)).toBe(first.initialSha);
      expect(await host.listBranches(first.repo)).toEqual([
        { name: first.repo.defaultBranch, sha: first.initialSha },
      ]);

      const exported = scratch("export");
      await host.exportTree(first.repo, first.initialSha, exported);
      const files = await readFiles(exported);
      expect(sorted(files)).toEqual(templateFiles);
      expect(files.get("scripts/dev.sh")).toMatchObject({ type: "file", executable: true });
      expect(files.get("src/entry.tsx")).toEqual({ type: "link", target: "app/page.tsx" });
      expect(files.get("src/logo.bin")).toEqual({
        type: "file",
        content: binary.toString("base64"),
        executable: false,
      });

      const facts = await harness.inspectCommit(first.repo, first.initialSha);
      expect(facts.parents).toEqual([]);

      const again = await host.createRepo({ name, templateDir, owner: harness.owner });
      expect(again).toEqual(first);
    });

    it("exports into an empty or missing directory only", async () => {
      const { repo, initialSha } = await newRepo("export");
      const existing = scratch("empty");
      await mkdir(existing);
      await host.exportTree(repo, initialSha, existing);
      expect(sorted(await readFiles(existing))).toEqual(templateFiles);

      const occupied = scratch("occupied");
      await mkdir(occupied);
      await writeFile(path.join(occupied, "keep.txt"), "mine");
      await expectProviderError(host.exportTree(repo, initialSha, occupied), "invalid");
      expect(sorted(await readFiles(occupied))).toEqual(["keep.txt"]);

      await expectProviderError(host.exportTree(repo, "0".repeat(40), scratch("nothing")), "not_found");
    });

    it("commits a sandbox's bundle on a new branch with the exact files, parent, message and author", async () => {
      const { repo, initialSha } = await newRepo("flow");
      const { bundlePath, headTree } = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "README.md"), "# Todo app\n");
        await rm(path.join(dir, "src", "logo.bin"));
        await mkdir(path.join(dir, "src", "lib", "db"), { recursive: true });
        await writeFile(path.join(dir, "src", "lib", "db", "schema.ts"), "export const tables = [];\n");
        await writeFile(path.join(dir, "migrate.sh"), "#!/bin/sh\n");
        await chmod(path.join(dir, "migrate.sh"), 0o755);
        await chmod(path.join(dir, "scripts", "dev.sh"), 0o644);
        await symlink("../README.md", path.join(dir, "src", "readme-link"));
        await mkdir(path.join(dir, "node_modules"));
        await writeFile(path.join(dir, "node_modules", "new.js"), "ignored\n");
      });
      const input = {
        branch: "kiln/rev-1",
        parentSha: initialSha,
        bundlePath,
        message: "Build a todo app",
        author,
      };
      const { sha } = await host.commitFromBundle(repo, input);

      expect(sha).toMatch(/^[0-9a-f]{40}$/);
      expect(await host.resolveRef(repo, "kiln/rev-1")).toBe(sha);
      expect(await host.resolveRef(repo, repo.defaultBranch)).toBe(initialSha);
      const facts = await harness.inspectCommit(repo, sha);
      expect(facts).toEqual({ tree: headTree, parents: [initialSha], message: "Build a todo app", author });

      const exported = scratch("after");
      await host.exportTree(repo, sha, exported);
      const files = await readFiles(exported);
      expect(sorted(files)).toEqual(
        [...templateFiles.filter((file) => file !== "src/logo.bin"), "migrate.sh", "src/lib/db/schema.ts"]
          .concat(["src/readme-link"])
          .sort(),
      );
      expect(files.get("README.md")).toMatchObject({
        content: Buffer.from("# Todo app\n").toString("base64"),
      });
      expect(files.get("migrate.sh")).toMatchObject({ executable: true });
      expect(files.get("scripts/dev.sh")).toMatchObject({ executable: false });
      expect(files.get("src/readme-link")).toEqual({ type: "link", target: "../README.md" });

      // A retry of the same handoff (e.g. after a crash) returns the commit that already landed.
      expect(await host.commitFromBundle(repo, input)).toEqual({ sha });
      expect(await host.listBranches(repo)).toEqual(
        expect.arrayContaining([
          { name: "kiln/rev-1", sha },
          { name: repo.defaultBranch, sha: initialSha },
        ]),
      );
    });

    it("moves an existing branch that still points at the parent", async () => {
      const { repo, initialSha } = await newRepo("move");
      const { bundlePath, headTree } = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "package.json"), '{ "name": "todo" }\n');
      });
      const branch = repo.defaultBranch;
      const { sha } = await host.commitFromBundle(repo, {
        branch,
        parentSha: initialSha,
        bundlePath,
        message: "m",
        author,
      });
      expect(await host.resolveRef(repo, branch)).toBe(sha);
      expect((await harness.inspectCommit(repo, sha)).tree).toBe(headTree);
    });

    it("answers a raced commit of one bundle, or one restore, with the one commit that landed", async () => {
      const { repo, initialSha } = await newRepo("raced");
      const { bundlePath } = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "README.md"), "# Raced\n");
      });
      const branch = repo.defaultBranch;
      const input = { branch, parentSha: initialSha, bundlePath, message: "Build a todo app", author };
      // Two servers (or two copies of the pipeline in one) applying the same runner event at once.
      const commits = await Promise.allSettled(
        Array.from({ length: 4 }, () => host.commitFromBundle(repo, input)),
      );
      const committed = commits.flatMap((result) =>
        result.status === "fulfilled" ? [result.value.sha] : [],
      );
      expect(committed).toHaveLength(4);
      expect(new Set(committed).size).toBe(1);
      expect(await host.resolveRef(repo, branch)).toBe(committed[0]);

      const restore = {
        branch,
        parentSha: committed[0] ?? "",
        treeOfSha: initialSha,
        message: "Restore checkpoint 1",
        author,
      };
      const restores = await Promise.allSettled(
        Array.from({ length: 4 }, () => host.commitTree(repo, restore)),
      );
      const restored = restores.flatMap((result) =>
        result.status === "fulfilled" ? [result.value.sha] : [],
      );
      expect(restored).toHaveLength(4);
      expect(new Set(restored).size).toBe(1);
      expect(await host.resolveRef(repo, branch)).toBe(restored[0]);
      expect((await harness.inspectCommit(repo, restored[0] ?? "")).parents).toEqual([committed[0]]);
    });

    it("restores an earlier commit's files as a new commit on top, refusing a branch that moved", async () => {
      const { repo, initialSha } = await newRepo("restore");
      const initialTree = (await harness.inspectCommit(repo, initialSha)).tree;
      const { bundlePath } = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "package.json"), '{ "name": "later" }\n');
      });
      const branch = repo.defaultBranch;
      const later = await host.commitFromBundle(repo, {
        branch,
        parentSha: initialSha,
        bundlePath,
        message: "later",
        author,
      });

      const restored = await host.commitTree(repo, {
        branch,
        parentSha: later.sha,
        treeOfSha: initialSha,
        message: "Restore checkpoint 1",
        author,
      });
      expect(await host.resolveRef(repo, branch)).toBe(restored.sha);
      const facts = await harness.inspectCommit(repo, restored.sha);
      expect(facts.tree).toBe(initialTree);
      expect(facts.parents).toEqual([later.sha]);
      expect(facts.message.trim()).toBe("Restore checkpoint 1");

      // The branch has moved on from `later`: a second restore from there changes nothing.
      await expectProviderError(
        host.commitTree(repo, {
          branch,
          parentSha: later.sha,
          treeOfSha: initialSha,
          message: "again",
          author,
        }),
        "conflict",
      );
      expect(await host.resolveRef(repo, branch)).toBe(restored.sha);
    });

    it("refuses a bundle when the branch moved since the sandbox started, changing nothing", async () => {
      const { repo, initialSha } = await newRepo("race");
      const first = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "a.txt"), "first\n");
      });
      const second = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "b.txt"), "second\n");
      });
      const branch = "kiln/race";
      const winner = await host.commitFromBundle(repo, {
        branch,
        parentSha: initialSha,
        bundlePath: first.bundlePath,
        message: "first",
        author,
      });
      const error = await expectProviderError(
        host.commitFromBundle(repo, {
          branch,
          parentSha: initialSha,
          bundlePath: second.bundlePath,
          message: "second",
          author,
        }),
        "conflict",
      );
      expect(error.message).toContain(branch);
      expect(error.retryable).toBe(false);
      expect(await host.resolveRef(repo, branch)).toBe(winner.sha);
    });

    it("commits the HEAD files even when the sandbox's first commit differs from the parent", async () => {
      const { repo, initialSha } = await newRepo("drift");
      const { bundlePath, headTree } = await sandboxBundle(
        repo,
        initialSha,
        async (dir) => {
          await rm(path.join(dir, "README.md"));
          await writeFile(path.join(dir, "later.txt"), "later\n");
        },
        {
          beforeFirstCommit: async (dir) => {
            await writeFile(path.join(dir, "extra.txt"), "not in the parent\n");
            await rm(path.join(dir, "package.json"));
          },
        },
      );
      const { sha } = await host.commitFromBundle(repo, {
        branch: "kiln/drift",
        parentSha: initialSha,
        bundlePath,
        message: "drift",
        author,
      });
      expect((await harness.inspectCommit(repo, sha)).tree).toBe(headTree);
      const exported = scratch("drift-export");
      await host.exportTree(repo, sha, exported);
      const files = sorted(await readFiles(exported));
      expect(files).toEqual(
        [
          ...templateFiles.filter((file) => file !== "README.md" && file !== "package.json"),
          "extra.txt",
          "later.txt",
        ].sort(),
      );
    });

    it("refuses bundles that could escape the project, leaving the branch alone", async () => {
      const { repo, initialSha } = await newRepo("evil");
      const branch = repo.defaultBranch;
      const attempt = (bundlePath: string) =>
        expectProviderError(
          host.commitFromBundle(repo, { branch, parentSha: initialSha, bundlePath, message: "evil", author }),
          "invalid",
        );

      const absolute = await sandboxBundle(repo, initialSha, async (dir) => {
        await symlink("/etc/passwd", path.join(dir, "passwd"));
      });
      expect((await attempt(absolute.bundlePath)).message).toContain("passwd");

      const relative = await sandboxBundle(repo, initialSha, async (dir) => {
        await symlink("../../../../etc/shadow", path.join(dir, "src", "shadow"));
      });
      expect((await attempt(relative.bundlePath)).message).toContain("src/shadow");

      // `sub/up -> ..` stays inside, but `sub/out -> up/..` walks through it and leaves.
      const chained = await sandboxBundle(repo, initialSha, async (dir) => {
        await mkdir(path.join(dir, "sub"));
        await symlink("..", path.join(dir, "sub", "up"));
        await symlink("up/..", path.join(dir, "sub", "out"));
      });
      expect((await attempt(chained.bundlePath)).message).toContain("sub/out");

      const hooks = await craftedDotGitBundle(scratch("dotgit"));
      expect((await attempt(hooks)).message).toContain(".git");

      const garbage = `${scratch("garbage")}.bundle`;
      await writeFile(garbage, "this is not a bundle\n");
      expect((await attempt(garbage)).message).toContain("not a valid git bundle");
      expect((await attempt(`${scratch("missing")}.bundle`)).message).toContain("cannot be read");

      expect(await host.resolveRef(repo, branch)).toBe(initialSha);
    });

    it("refuses bad commit input before doing anything", async () => {
      const { repo, initialSha } = await newRepo("input");
      const { bundlePath } = await sandboxBundle(repo, initialSha, async () => undefined);
      const base = { branch: "ok", parentSha: initialSha, bundlePath, message: "m", author };
      await expectProviderError(host.commitFromBundle(repo, { ...base, branch: "bad..name" }), "invalid");
      await expectProviderError(host.commitFromBundle(repo, { ...base, branch: "-x" }), "invalid");
      await expectProviderError(host.commitFromBundle(repo, { ...base, parentSha: "HEAD~1" }), "invalid");
      await expectProviderError(host.commitFromBundle(repo, { ...base, message: "  " }), "invalid");
      await expectProviderError(
        host.commitFromBundle(repo, { ...base, author: { name: "A\nB", email: "a@b" } }),
        "invalid",
      );
      await expectProviderError(
        host.commitFromBundle(repo, { ...base, parentSha: "1".repeat(40) }),
        "not_found",
      );
      expect(await host.resolveRef(repo, "ok")).toBeNull();
    });

    it("creates branches idempotently and conflicts when the name points elsewhere", async () => {
      const { repo, initialSha } = await newRepo("branches");
      const { bundlePath } = await sandboxBundle(repo, initialSha, async (dir) => {
        await writeFile(path.join(dir, "c.txt"), "c\n");
      });
      const { sha: other } = await host.commitFromBundle(repo, {
        branch: "kiln/other",
        parentSha: initialSha,
        bundlePath,
        message: "other",
        author,
      });

      await host.createBranch(repo, "kiln/restore-1", initialSha);
      await host.createBranch(repo, "kiln/restore-1", initialSha);
      expect(await host.resolveRef(repo, "kiln/restore-1")).toBe(initialSha);
      const error = await expectProviderError(host.createBranch(repo, "kiln/restore-1", other), "conflict");
      expect(error.message).toContain("kiln/restore-1");
      expect(await host.resolveRef(repo, "kiln/restore-1")).toBe(initialSha);

      await expectProviderError(host.createBranch(repo, "kiln/ghost", "2".repeat(40)), "not_found");
      await expectProviderError(host.createBranch(repo, "no spaces", initialSha), "invalid");
      const names = (await host.listBranches(repo)).map((branch) => branch.name).sort();
      expect(names).toEqual([repo.defaultBranch, "kiln/other", "kiln/restore-1"].sort());
    });

    it("resolves branches and shas, returns null for unknown refs, rejects malformed ones", async () => {
      const { repo, initialSha } = await newRepo("refs");
      expect(await host.resolveRef(repo, initialSha)).toBe(initialSha);
      expect(await host.resolveRef(repo, initialSha.slice(0, 12))).toBe(initialSha);
      expect(await host.resolveRef(repo, "no-such-branch")).toBeNull();
      expect(await host.resolveRef(repo, "0".repeat(40))).toBeNull();
      await expectProviderError(host.resolveRef(repo, "--upload-pack=evil"), "invalid");
      await expectProviderError(host.resolveRef(repo, "main~1"), "invalid");
    });

    it("deletes repositories idempotently; a deleted repository is not_found", async () => {
      const { repo } = await newRepo("doomed");
      await host.deleteRepo(repo);
      await host.deleteRepo(repo);
      await expectProviderError(host.listBranches(repo), "not_found");
      await expectProviderError(host.resolveRef(repo, "main"), "not_found");
    });

    it("refuses invalid repository names and unreadable templates", async () => {
      await expectProviderError(
        host.createRepo({ name: "../escape", templateDir, owner: harness.owner }),
        "invalid",
      );
      await expectProviderError(
        host.createRepo({ name: "Upper", templateDir, owner: harness.owner }),
        "invalid",
      );
      await expectProviderError(
        host.createRepo({
          name: `nothing-${++counter}`,
          templateDir: path.join(work, "nope"),
          owner: harness.owner,
        }),
        "invalid",
      );
    });
  });
}

/** A bundle whose HEAD tree holds `.git/hooks/post-checkout`: impossible with porcelain, easy with plumbing. */
async function craftedDotGitBundle(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const git = (args: string[], input?: string) =>
    sandboxGit.run(args, { cwd: dir, input }).then((out) => out.toString("utf8").trim());
  await git(["init", "--quiet", "--initial-branch=main"]);
  const hook = await git(["hash-object", "-w", "--stdin"], "#!/bin/sh\necho pwned\n");
  const hooks = await git(["mktree"], `100755 blob ${hook}\tpost-checkout\n`);
  const dotGit = await git(["mktree"], `040000 tree ${hooks}\thooks\n`);
  const readme = await git(["hash-object", "-w", "--stdin"], "hello\n");
  const root = await git(["mktree"], `040000 tree ${dotGit}\t.git\n100644 blob ${readme}\tREADME.md\n`);
  const commit = await git(["commit-tree", root, "-m", "evil"]);
  await git(["update-ref", "refs/heads/main", commit]);
  const bundlePath = `${dir}.bundle`;
  await git(["bundle", "create", "--quiet", bundlePath, "--all"]);
  return bundlePath;
}
