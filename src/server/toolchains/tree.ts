import fs from "node:fs/promises";
import path from "node:path";

// Walks over an installed toolchain tree. Symlinks are never followed: the tree's own links (node_modules/.bin)
// point inside it, and a link elsewhere must not make us chmod or count files outside the cache.

async function walk(dir: string, visit: (file: string, stat: import("node:fs").Stats) => Promise<void>) {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const stat = await fs.lstat(file);
    await visit(file, stat);
    if (stat.isDirectory()) await walk(file, visit);
  }
}

/**
 * Nobody but the owner may change the tree (sandboxes see it through a read-only bind as well); everyone may read
 * it and run what was executable. setuid/setgid bits never survive.
 */
export async function makeReadOnlyForOthers(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  await walk(dir, async (file, stat) => {
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) return fs.chmod(file, 0o755);
    const executable = (stat.mode & 0o111) !== 0;
    await fs.chmod(file, executable ? 0o755 : 0o644);
  });
}

/** Bytes on disk, hard links counted once (Claude Code's binary is hard-linked into its bin/). */
export async function treeSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  await walk(dir, async (_file, stat) => {
    if (!stat.isFile()) return;
    const id = `${stat.dev}:${stat.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    total += stat.size;
  });
  return total;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.round(bytes / 1024)} kB`;
}
