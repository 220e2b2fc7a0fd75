import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { templateFiles } from "../../src/server/templates/template-version";
import { TEMPLATE_DIR } from "./template";

// Repositories to import (docs/import.md), made the way an operator's would be: a git repository with a commit.

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Shop Dev",
  GIT_AUTHOR_EMAIL: "dev@shop.example",
  GIT_COMMITTER_NAME: "Shop Dev",
  GIT_COMMITTER_EMAIL: "dev@shop.example",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

/**
 * An app that fits and builds: the template's files (not its node_modules) with package.json renamed, so its
 * dependency manifest is not the template's and the sandbox installs its own.
 */
export function writeShopApp(dir: string, edit: (pkg: Record<string, unknown>) => void = () => undefined) {
  fs.mkdirSync(dir, { recursive: true });
  return templateFiles(TEMPLATE_DIR).then((files) => {
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(TEMPLATE_DIR, file), path.join(dir, file));
    }
    const pkg: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    pkg.name = "shop";
    edit(pkg);
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "SHOP.md"), "The shop, before Kiln.\n");
  });
}

/** Makes `dir` a git repository whose main branch holds its files in one commit; returns that commit. */
export function commitAll(dir: string, message = "The shop"): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: gitEnv }).toString().trim();
  git("init", "--quiet", "--initial-branch=main");
  git("add", "--all");
  git("commit", "--quiet", "-m", message);
  return git("rev-parse", "HEAD");
}

/** A minimal package.json repository with the given scripts (for fit checks that never build). */
export function writeScriptsRepo(dir: string, scripts: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "x", scripts }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "README.md"), "hello\n");
  return commitAll(dir);
}
