import fs from "node:fs/promises";
import path from "node:path";
import { linkTree } from "../sandboxes/local-files";
import type { CommitToDeploy } from "./port";

// Staging for the local deployer: a commit's files in a directory of their own, with the warm template's installed
// dependencies hard-linked in when the commit's lockfile is the template's (else the build runs `npm ci`).

export type StageCommitInput = {
  commit: Pick<CommitToDeploy, "exportFiles">;
  /** Parent of staged directories: on the warm dependencies' filesystem, so hard links work. */
  stagingRoot: string;
  /** A directory holding the template's package-lock.json and installed node_modules; none: never linked. */
  warmDependencies?: () => Promise<string>;
  /** Prefix of the staged directory's name, for whoever looks at the staging root. */
  label: string;
};

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
    throw error;
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([readIfExists(a), readIfExists(b)]);
  return left !== null && right !== null && left.equals(right);
}

/** The staged directory; the caller removes it. Nothing is left behind when staging fails. */
export async function stageCommit(input: StageCommitInput): Promise<string> {
  await fs.mkdir(input.stagingRoot, { recursive: true });
  const label = input.label.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 60);
  const dir = await fs.mkdtemp(path.join(input.stagingRoot, `${label}-`));
  try {
    await input.commit.exportFiles(dir);
    const warm = await input.warmDependencies?.();
    if (warm && (await sameFile(path.join(dir, "package-lock.json"), path.join(warm, "package-lock.json")))) {
      await linkTree(path.join(warm, "node_modules"), path.join(dir, "node_modules"));
    }
    return dir;
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
