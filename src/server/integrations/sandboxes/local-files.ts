import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { errnoOf, localSandboxError } from "./local-errors";
import type { SandboxUser } from "./local-isolation";
import { escapeError, toSandboxFilePath, toSandboxRelativePath } from "./sandbox-paths";

const execFileAsync = promisify(execFile);

/**
 * File access into a local sandbox's working directory from the platform side. The sandbox can create symlinks,
 * so every path is checked after resolving its existing ancestors with realpath: a link pointing at /etc or at
 * another sandbox is refused rather than followed.
 */

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** `mkdir -p` made `first` … `last`: each of them goes to the sandbox's uid (lchown: never through a link). */
async function chownCreated(first: string, last: string, owner: SandboxUser): Promise<void> {
  const stop = path.dirname(first);
  for (let dir = last; dir !== stop && dir !== path.dirname(dir); dir = path.dirname(dir)) {
    await fs.lchown(dir, owner.uid, owner.gid);
  }
}

/** realpath of the deepest existing ancestor of `target` (inclusive), plus the part that does not exist yet. */
async function realpathOfExisting(target: string): Promise<{ real: string; rest: string[] }> {
  const rest: string[] = [];
  let current = target;
  while (true) {
    try {
      return { real: await fs.realpath(current), rest };
    } catch (error) {
      const code = errnoOf(error);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw localSandboxError(`resolving ${current}`, error);
      const parent = path.dirname(current);
      if (parent === current) throw localSandboxError(`resolving ${target}`, error);
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}

/** Absolute host path of a directory inside the sandbox (a command's cwd); must already exist. */
export async function resolveSandboxDir(workReal: string, input: string | undefined): Promise<string> {
  const relative = toSandboxRelativePath("local-sandbox", input ?? "", "working directory");
  const target = path.join(workReal, relative);
  const { real, rest } = await realpathOfExisting(target);
  if (!isInside(real, workReal)) throw escapeError("local-sandbox", "working directory", input ?? "");
  if (rest.length > 0) {
    throw localSandboxError(
      `using ${JSON.stringify(input)} as working directory`,
      new Error("it does not exist"),
    );
  }
  return real;
}

/** Host path of a file inside the sandbox whose parent directories are inside it (they may not exist yet). */
async function resolveSandboxFile(workReal: string, input: string): Promise<string> {
  const relative = toSandboxFilePath("local-sandbox", input);
  const target = path.join(workReal, relative);
  const { real, rest } = await realpathOfExisting(path.dirname(target));
  if (!isInside(real, workReal)) throw escapeError("local-sandbox", "path", input);
  return path.join(real, ...rest, path.basename(target));
}

/**
 * `owner`: when sandboxes run as their own uid, everything the platform writes into one becomes theirs, so the
 * agent can edit and replace it like its own files.
 */
export async function writeSandboxFiles(
  workReal: string,
  files: Array<{ path: string; content: Buffer | string }>,
  owner?: SandboxUser,
): Promise<void> {
  // Validate every path first, so a refused path does not leave the other files half-written.
  const targets = await Promise.all(files.map((file) => resolveSandboxFile(workReal, file.path)));
  for (const [index, file] of files.entries()) {
    const target = targets[index];
    if (target === undefined) continue;
    try {
      const created = await fs.mkdir(path.dirname(target), { recursive: true });
      // A symlink swapped in after the check above would be followed by mkdir; check the result again.
      const parentReal = await fs.realpath(path.dirname(target));
      if (!isInside(parentReal, workReal)) throw escapeError("local-sandbox", "path", file.path);
      if (created !== undefined && owner) await chownCreated(created, parentReal, owner);
      await writeReplacing(path.join(parentReal, path.basename(target)), file.content, owner);
    } catch (error) {
      throw localSandboxError(`writing ${JSON.stringify(file.path)} into the sandbox`, error);
    }
  }
}

/**
 * Temp file + rename: readers never see a partial file, an existing symlink at the target is replaced instead of
 * followed, and a hard-linked file (from a directory source) is replaced instead of edited in place.
 */
async function writeReplacing(target: string, content: Buffer | string, owner?: SandboxUser): Promise<void> {
  let mode = 0o644;
  try {
    const stat = await fs.lstat(target);
    if (stat.isFile()) mode = stat.mode & 0o777;
    if (stat.isDirectory()) throw localSandboxError(`writing ${target}`, new Error("it is a directory"));
  } catch (error) {
    if (errnoOf(error) !== "ENOENT") throw error;
  }
  const temp = path.join(path.dirname(target), `.kiln-write-${randomBytes(6).toString("hex")}`);
  try {
    await fs.writeFile(temp, content, { mode, flag: "wx" });
    await fs.chmod(temp, mode);
    if (owner) await fs.lchown(temp, owner.uid, owner.gid);
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export async function readSandboxFile(workReal: string, input: string): Promise<Buffer | null> {
  const target = await resolveSandboxFile(workReal, input);
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw localSandboxError(`reading ${JSON.stringify(input)} from the sandbox`, error);
  }
  if (!isInside(real, workReal)) throw escapeError("local-sandbox", "path", input);
  try {
    // O_NOFOLLOW: the resolved path must not have been turned into a symlink since the check.
    const handle = await fs.open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    try {
      const stat = await handle.stat();
      if (!stat.isFile())
        throw localSandboxError(`reading ${JSON.stringify(input)}`, new Error("not a file"));
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw escapeError("local-sandbox", "path", input);
    throw localSandboxError(`reading ${JSON.stringify(input)} from the sandbox`, error);
  }
}

/**
 * Copies a host directory into the (empty) working directory. Ordinary files are real copies (a reflink where
 * the filesystem supports it): the coding agent edits them in place, and a shared inode would edit the source
 * template too. `node_modules` trees are shared with the source (see `linkTree`) when the sandbox runs as a uid
 * of its own, so the shared files cannot be written in place; otherwise they are copied too.
 */
export async function copyDirectoryInto(source: string, work: string, owner?: SandboxUser): Promise<void> {
  let stat: Awaited<ReturnType<typeof fs.stat>>;
  try {
    stat = await fs.stat(source);
  } catch (error) {
    throw localSandboxError(`reading the source directory ${source}`, error);
  }
  if (!stat.isDirectory()) {
    throw localSandboxError(`reading the source directory ${source}`, new Error("it is not a directory"));
  }
  try {
    await copyTree(source, work, owner);
  } catch (error) {
    throw localSandboxError(`copying ${source} into the sandbox`, error);
  }
}

async function copyTree(from: string, to: string, owner: SandboxUser | undefined): Promise<void> {
  const entries = await fs.readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const source = path.join(from, entry.name);
      const target = path.join(to, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === "node_modules") {
          if (owner) return linkTree(source, target, owner);
          return copyTreeWhole(source, target);
        }
        await fs.mkdir(target, { mode: (await fs.stat(source)).mode & 0o7777 });
        if (owner) await fs.lchown(target, owner.uid, owner.gid);
        return copyTree(source, target, owner);
      }
      if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(source), target);
      else if (entry.isFile()) await fs.copyFile(source, target, fsConstants.COPYFILE_FICLONE);
      // Sockets, fifos and devices have no place in a project tree.
      else return undefined;
      if (owner) await fs.lchown(target, owner.uid, owner.gid);
      return undefined;
    }),
  );
}

/**
 * `target` becomes a hard-linked copy of `source` whose directories belong to `owner` (the sandbox's uid) and
 * whose files stay the source's (the platform's uid, never writable by others: see `ensureTemplateCache`).
 * One inode per file, so a link is as writable as the cache file itself: the sandbox may replace a file (unlink
 * in a directory it owns, then write; what npm does) but never change it in place, which would change it for
 * the cache and every sandbox and deployment sharing it. Across filesystems, a plain copy owned by `owner`.
 */
export async function linkTree(source: string, target: string, owner?: SandboxUser): Promise<void> {
  try {
    await execFileAsync("cp", ["-al", "--", source, target], { timeout: 300_000 });
  } catch (error) {
    // Cross-filesystem (EXDEV) or a cp without -l: fall back to a plain recursive copy.
    await fs.rm(target, { recursive: true, force: true });
    await copyTreeWhole(source, target).catch((copyError: unknown) => {
      throw new Error(`cp failed: ${String(copyError)} (hard link attempt: ${String(error)})`);
    });
    if (owner) await execFileAsync("chown", ["-R", "-h", `${owner.uid}:${owner.gid}`, "--", target]);
    return;
  }
  if (owner) await chownDirectories(target, owner);
}

async function copyTreeWhole(source: string, target: string): Promise<void> {
  await execFileAsync("cp", ["-a", "--reflink=auto", "--", source, target], { timeout: 600_000 });
}

/** Every directory under `root` (symlinks not followed) to `owner`; files keep their owner. */
async function chownDirectories(root: string, owner: SandboxUser): Promise<void> {
  const dirs: string[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i];
    if (dir === undefined) break;
    await fs.lchown(dir, owner.uid, owner.gid);
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) dirs.push(path.join(dir, entry.name));
    }
  }
}
