import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createGitCli } from "../../src/server/integrations/git-host/git-cli";
import { createLocalGitHost } from "../../src/server/integrations/git-host/local";
import { type BenchRow, measure } from "./stats";

// The local GitHost on a template-sized tree (200 files in 20 folders plus an ignored node_modules): creating a
// project's repository, exporting a commit into a sandbox, and committing a sandbox's bundle of 20 changed files.

async function makeTemplate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, ".gitignore"), "node_modules/\n");
  for (let folder = 0; folder < 20; folder++) {
    await mkdir(path.join(dir, "src", `feature-${folder}`), { recursive: true });
    for (let file = 0; file < 10; file++) {
      const body = `export const value${file} = ${JSON.stringify("x".repeat(400 + file))};\n`;
      await writeFile(path.join(dir, "src", `feature-${folder}`, `file-${file}.ts`), body);
    }
  }
  await mkdir(path.join(dir, "node_modules", "dep"), { recursive: true });
  for (let file = 0; file < 200; file++)
    await writeFile(path.join(dir, "node_modules", "dep", `${file}.js`), "module.exports = 1;\n");
}

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-git-"));
  try {
    const templateDir = path.join(work, "template");
    await makeTemplate(templateDir);
    const host = createLocalGitHost({ root: path.join(work, "git") });
    const rows: BenchRow[] = [];

    rows.push(
      await measure(
        "git-host local: createRepo (200-file template)",
        15,
        (i) => host.createRepo({ name: `bench-${i < 0 ? `w${-i}` : i}`, templateDir }),
        { goal: "≤ 300 ms" },
      ),
    );

    const { repo, initialSha } = await host.createRepo({ name: "bench-flow", templateDir });
    rows.push(
      await measure(
        "git-host local: exportTree (200 files)",
        15,
        (i) => host.exportTree(repo, initialSha, path.join(work, "exports", String(i))),
        { goal: "≤ 150 ms" },
      ),
    );

    const sandbox = path.join(work, "sandbox");
    await host.exportTree(repo, initialSha, sandbox);
    const git = createGitCli();
    await git.run(["init", "--quiet", "--initial-branch=main"], { cwd: sandbox });
    await git.run(["add", "--all"], { cwd: sandbox });
    await git.run(["commit", "--quiet", "-m", "start"], { cwd: sandbox });
    for (let file = 0; file < 20; file++)
      await writeFile(
        path.join(sandbox, "src", `feature-${file}`, "file-0.ts"),
        `export const changed = ${file};\n`,
      );
    await git.run(["add", "--all"], { cwd: sandbox });
    await git.run(["commit", "--quiet", "-m", "work"], { cwd: sandbox });
    const bundlePath = path.join(work, "sandbox.bundle");
    await git.run(["bundle", "create", "--quiet", bundlePath, "--all"], { cwd: sandbox });
    const author = { name: "Bench", email: "bench@example.com" };
    rows.push(
      await measure(
        "git-host local: commitFromBundle (20 changed files)",
        15,
        (i) =>
          host.commitFromBundle(repo, {
            branch: `bench/${i < 0 ? `w${-i}` : i}`,
            parentSha: initialSha,
            bundlePath,
            message: "bench",
            author,
          }),
        { goal: "≤ 300 ms" },
      ),
    );
    return rows;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
