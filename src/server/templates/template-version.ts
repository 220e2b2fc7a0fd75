import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

/** What never belongs to a template's identity: installed or built output and local state. */
export const TEMPLATE_IGNORED = new Set([
  "node_modules",
  ".next",
  ".git",
  ".turbo",
  "coverage",
  "next-env.d.ts",
]);
const IGNORED_SUFFIXES = [".tsbuildinfo", ".db", ".db-journal", ".db-wal", ".db-shm"];

export async function templateFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (TEMPLATE_IGNORED.has(entry.name) || IGNORED_SUFFIXES.some((suffix) => entry.name.endsWith(suffix)))
      continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await templateFiles(full, base)));
    else if (entry.isFile()) files.push(path.relative(base, full));
  }
  return files.sort();
}

/**
 * A template's version: a hash of every file's path and bytes. Any change (a component, the lockfile) is a new
 * version with a cache of its own, so a changed template can never be served from a stale install.
 */
export async function templateVersion(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await templateFiles(dir)) {
    hash.update(file).update("\0");
    hash.update(await fs.readFile(path.join(dir, file))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
