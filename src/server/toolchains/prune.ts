import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { agentKinds } from "@/agents/registry";
import { withDirLock } from "@/server/fs/dir-lock";
import { ToolchainError } from "./errors";
import { pinnedToolchains } from "./toolchain-spec";

export type PruneResult = {
  /** Directory names removed from the cache root. */
  removed: string[];
  /** Other versions left in place because a sandbox or process still uses them, or an install holds their lock. */
  inUse: string[];
};

const versionDir = new RegExp(`^(${agentKinds.join("|")})-(\\d[\\w.+-]*)$`);
const leftover = /^\.(tmp|trash)-(.+)-[0-9a-f]{8}$/;

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/**
 * Removes every cached toolchain version other than `keep` (default: the pinned versions), and what crashed
 * installs left behind. A version still mounted into a running local sandbox, or whose binary a process runs,
 * stays: deleting it would pull the CLI out from under a live agent.
 */
export async function pruneToolchains(
  cacheRoot: string,
  keep: ReadonlyArray<{ agent: string; version: string }> = pinnedToolchains,
): Promise<PruneResult> {
  const root = path.resolve(cacheRoot);
  const kept = new Set(keep.map((entry) => `${entry.agent}-${entry.version}`));
  let entries: string[];
  try {
    entries = await fs.readdir(root);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return { removed: [], inUse: [] };
    throw new ToolchainError(`Agent toolchains: reading ${root} failed: ${String(error)}.`, { cause: error });
  }
  const candidates = entries.filter(
    (name) => (versionDir.test(name) && !kept.has(name)) || leftover.test(name),
  );
  if (candidates.length === 0) return { removed: [], inUse: [] };
  let used: string[];
  try {
    used = await pathsInUse();
  } catch (error) {
    throw new ToolchainError(
      `Agent toolchains: could not tell which versions are in use (reading /proc failed: ${String(error)}); nothing was pruned.`,
      { cause: error },
    );
  }
  const result: PruneResult = { removed: [], inUse: [] };
  for (const name of candidates) {
    const dir = path.join(root, name);
    const version = leftover.exec(name)?.[2] ?? name;
    const lockDir = path.join(root, `.lock-${version}`);
    if (isUsed(dir, root, used) || (await exists(lockDir))) {
      result.inUse.push(name);
      continue;
    }
    try {
      await withDirLock(lockDir, () => removeTree(dir, root), { waitMs: 2_000 });
    } catch (error) {
      throw new ToolchainError(
        `Agent toolchains: removing ${dir} failed: ${error instanceof Error ? error.message : String(error)}. ` +
          "Check that the platform's user owns the toolchain cache.",
        { cause: error },
      );
    }
    result.removed.push(name);
  }
  return result;
}

async function exists(target: string): Promise<boolean> {
  try {
    await fs.lstat(target);
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw error;
  }
}

/** Renamed away first, so a half-deleted version never sits under its real name. */
async function removeTree(dir: string, root: string): Promise<void> {
  const trash = path.join(root, `.trash-${path.basename(dir)}-${randomBytes(4).toString("hex")}`);
  try {
    await fs.rename(dir, trash);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw error;
  }
  await fs.rm(trash, { recursive: true, force: true, maxRetries: 3 });
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** A mount at the version directory (or inside it, or of the whole cache) or a process running a file from it. */
function isUsed(dir: string, root: string, used: string[]): boolean {
  return used.some((target) => target === root || isInside(target, dir));
}

/**
 * Every mount point of every mount namespace (bubblewrap sandboxes bind toolchains at their own path) and every
 * running executable, from /proc. Elsewhere than Linux this finds nothing, which is also where local sandboxes
 * do not bind anything.
 */
async function pathsInUse(): Promise<string[]> {
  let pids: string[];
  try {
    pids = (await fs.readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw error;
  }
  const found = new Set<string>();
  for (const pid of pids) {
    const mountinfo = await readIfThere(`/proc/${pid}/mountinfo`);
    for (const line of mountinfo?.split("\n") ?? []) {
      const mountPoint = line.split(" ")[4];
      if (mountPoint) found.add(unescapeMountPath(mountPoint));
    }
    const exe = await fs.readlink(`/proc/${pid}/exe`).catch((error: unknown) => {
      if (isGoneOrHidden(error)) return undefined;
      throw error;
    });
    if (exe) found.add(exe.replace(/ \(deleted\)$/, ""));
  }
  return [...found];
}

function isGoneOrHidden(error: unknown): boolean {
  const code = errnoOf(error);
  return code === "ENOENT" || code === "ESRCH" || code === "EACCES" || code === "EPERM" || code === "EINVAL";
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (isGoneOrHidden(error)) return undefined;
    throw error;
  }
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMountPath(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_match, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}
