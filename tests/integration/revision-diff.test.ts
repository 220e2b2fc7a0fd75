import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { createGitCli } from "@/server/integrations/git-host/git-cli";
import type { RepoRef } from "@/server/integrations/git-host/port";
import type { Providers } from "@/server/integrations/registry";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { getRevisionDiff, revisionDiffKey } from "@/server/revisions/revision-diff";
import { type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf, rejectionOf } from "../helpers/errors";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";

// The DIFF tab's server side on a real control-plane database and a real local git repository: a template commit,
// then a "sandbox" commit on top of it that adds, changes, deletes, renames and touches a binary and a lockfile.

const local = localProviderChoices;
const sandboxGit = createGitCli({ committer: { name: "Sandbox", email: "sandbox@example.com" } });
const appLines = (greeting: string) =>
  ["export function greet() {", `  return "${greeting}";`, "}", "", "export const version = 1;", ""].join(
    "\n",
  );
const lockfile = (version: string) =>
  `${JSON.stringify({ name: "app", lockfileVersion: 3, version }, null, 2)}\n`;

async function writeFiles(dir: string, files: Record<string, string | Buffer>) {
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), content);
  }
}

async function kilnDiffDirs(): Promise<string[]> {
  return (await fs.readdir(os.tmpdir())).filter((name) => name.startsWith("kiln-diff-"));
}

describe.each(testDatabases)("revision diff on $name", (factory) => {
  let t: TestDatabase;
  let work: string;
  let providers: Providers;
  let ada: string;
  let grace: string;
  let created: CreatedProject;
  let repo: RepoRef;
  let baseSha: string;
  let headSha: string;

  beforeEach(async () => {
    t = await factory.open();
    work = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-revision-diff-test-"));
    providers = localProvidersAt(path.join(work, "data"));
    const operator = (email: string) =>
      createOperator(t.db, { email, password: "correct horse battery" }, { bcryptCost: 4 });
    ada = (await operator("ada@example.com")).id;
    grace = (await operator("grace@example.com")).id;
    created = await createProject(t.db, ada, { prompt: "A greeting app" }, local);

    const templateDir = path.join(work, "template");
    await writeFiles(templateDir, {
      "README.md": "# Greeter\n",
      "src/app.ts": appLines("hello"),
      "old.txt": "first\nsecond\n",
      "docs/guide.md": "How to greet.\nSay hello.\nWave.\n",
      "package-lock.json": lockfile("1.0.0"),
      "logo.bin": Buffer.from([0, 1, 2, 3, 255]),
    });
    const made = await providers.git.createRepo({ name: "greeter", templateDir });
    repo = made.repo;
    baseSha = made.initialSha;
    await updateProjectRow(t.db, created.project.id, {
      repo_full_name: repo.fullName,
      repo_url: repo.webUrl,
      default_branch: repo.defaultBranch,
    });

    // The sandbox's side: the base commit's files, edited, committed and handed back as a bundle.
    const sandbox = path.join(work, "sandbox");
    await providers.git.exportTree(repo, baseSha, sandbox);
    await sandboxGit.run(["init", "--quiet", "--initial-branch=main"], { cwd: sandbox });
    await writeFiles(sandbox, {
      "src/app.ts": `${appLines("hi")}export const extra = true;\n`,
      "src/new.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n",
      "package-lock.json": lockfile("1.1.0"),
      "logo.bin": Buffer.from([0, 1, 2, 4, 255]),
    });
    await fs.rm(path.join(sandbox, "old.txt"));
    await fs.rename(path.join(sandbox, "docs/guide.md"), path.join(sandbox, "docs/manual.md"));
    await sandboxGit.run(["add", "--all"], { cwd: sandbox });
    await sandboxGit.run(["commit", "--quiet", "-m", "work"], { cwd: sandbox });
    const bundlePath = path.join(work, "work.bundle");
    await sandboxGit.run(["bundle", "create", "--quiet", bundlePath, "--all"], { cwd: sandbox });
    headSha = (
      await providers.git.commitFromBundle(repo, {
        branch: "main",
        parentSha: baseSha,
        bundlePath,
        message: "Greet with hi",
        author: { name: "Agent", email: "agent@example.com" },
      })
    ).sha;
  });
  afterEach(async () => {
    await t.drop();
    await fs.rm(work, { recursive: true, force: true });
  });

  async function commitRevision() {
    await t.db
      .updateTable("revision")
      .set({ commit_sha: headSha, base_sha: baseSha })
      .where("id", "=", created.revision.id)
      .execute();
  }

  it("lists what the checkpoint added, changed, deleted and renamed, with counts and patches", async () => {
    await commitRevision();
    const tempBefore = await kilnDiffDirs();
    const diff = await getRevisionDiff(t.db, ada, created.revision.id, async () => providers);

    expect([diff.baseSha, diff.headSha, diff.truncated]).toEqual([baseSha, headSha, false]);
    expect(
      diff.files.map(({ path, oldPath, status, additions, deletions, binary }) => ({
        path,
        oldPath,
        status,
        additions,
        deletions,
        binary,
      })),
    ).toEqual([
      {
        path: "docs/manual.md",
        oldPath: "docs/guide.md",
        status: "renamed",
        additions: 0,
        deletions: 0,
        binary: false,
      },
      { path: "logo.bin", oldPath: null, status: "modified", additions: 0, deletions: 0, binary: true },
      { path: "old.txt", oldPath: null, status: "deleted", additions: 0, deletions: 2, binary: false },
      {
        path: "package-lock.json",
        oldPath: null,
        status: "modified",
        additions: 1,
        deletions: 1,
        binary: false,
      },
      { path: "src/app.ts", oldPath: null, status: "modified", additions: 2, deletions: 1, binary: false },
      { path: "src/new.ts", oldPath: null, status: "added", additions: 3, deletions: 0, binary: false },
    ]);
    const byPath = new Map(diff.files.map((file) => [file.path, file.patch]));
    expect(byPath.get("src/app.ts")).toBe(
      [
        "@@ -1,5 +1,6 @@",
        " export function greet() {",
        '-  return "hello";',
        '+  return "hi";',
        " }",
        " ",
        " export const version = 1;",
        "+export const extra = true;",
        "",
      ].join("\n"),
    );
    expect(byPath.get("src/new.ts")).toBe(
      "@@ -0,0 +1,3 @@\n+export const a = 1;\n+export const b = 2;\n+export const c = 3;\n",
    );
    expect(byPath.get("old.txt")).toBe("@@ -1,2 +0,0 @@\n-first\n-second\n");
    // Counted, but never shipped: lockfile churn is noise in a review.
    expect(byPath.get("package-lock.json")).toBe("");
    expect(JSON.stringify(diff)).not.toContain(os.tmpdir());
    expect(await kilnDiffDirs()).toEqual(tempBefore);
  });

  it("serves the second request from the blob cache, even with the repository gone", async () => {
    await commitRevision();
    const first = await getRevisionDiff(t.db, ada, created.revision.id, async () => providers);
    expect(await providers.blob.head(revisionDiffKey(created.revision.id))).not.toBeNull();

    await providers.git.deleteRepo(repo);
    expect(await getRevisionDiff(t.db, ada, created.revision.id, async () => providers)).toEqual(first);

    // Without the cached copy the same request needs the repository: the answer above really came from the cache.
    await providers.blob.delete([revisionDiffKey(created.revision.id)]);
    await rejectionOf(getRevisionDiff(t.db, ada, created.revision.id, async () => providers));
  });

  it("hides the checkpoint from another operator and refuses one without a commit", async () => {
    const early = await appErrorOf(getRevisionDiff(t.db, ada, created.revision.id, async () => providers));
    expect([early.code, early.status]).toEqual(["conflict:revision_not_ready", 409]);
    expect(early.message).toContain("no commit yet");

    await commitRevision();
    const other = await appErrorOf(getRevisionDiff(t.db, grace, created.revision.id, async () => providers));
    expect(other.code).toBe("not_found:revision");
    expect(await providers.blob.head(revisionDiffKey(created.revision.id))).toBeNull();
  });
});
