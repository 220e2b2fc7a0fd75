import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { GitCli } from "./git-cli";

/** Turning a template directory into a git tree: the exact files `git add -A` would commit there. */

export class TemplateError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "TemplateError";
  }
}

export const emptyTreeSha = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/**
 * Writes the template's files into `gitDir`'s object store and returns their tree. A throwaway index with the
 * template as work tree means the template's own .gitignore decides (node_modules, .next, .env… stay out) and
 * nothing is copied or written into the template directory.
 */
export async function writeTemplateTree(git: GitCli, gitDir: string, templateDir: string): Promise<string> {
  const absolute = path.resolve(templateDir);
  const stats = await stat(absolute).catch((error: unknown) => {
    throw new TemplateError(`The template directory ${absolute} cannot be read.`, { cause: error });
  });
  if (!stats.isDirectory()) throw new TemplateError(`The template path ${absolute} is not a directory.`);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "kiln-template-index-"));
  try {
    const env = { GIT_INDEX_FILE: path.join(scratch, "index"), GIT_WORK_TREE: absolute };
    await git.run(["add", "--all", "--", "."], { gitDir, env, cwd: absolute, timeoutMs: 300_000 });
    const tree = (await git.run(["write-tree"], { gitDir, env })).toString("utf8").trim();
    if (tree === emptyTreeSha) {
      throw new TemplateError(
        `The template directory ${absolute} has no files to commit (all are ignored?).`,
      );
    }
    return tree;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
