import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { isValidSegment } from "./keys";
import { isErrno } from "./local-file";
import { segmentOfBlobFile } from "./local-layout";

/**
 * Yields the keys under `prefix` in key order, strictly after `after`, lazily: a page of 2 reads only the
 * directories it needs. Sorting a directory's entries by their key spelling — a blob by its segment, a directory by
 * its segment + "/" — gives exact key order across levels, because no segment contains "/".
 */

type Entry = { sortKey: string; segment: string; isDirectory: boolean };

async function readEntries(dir: string): Promise<Entry[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return [];
    throw error;
  }
  const entries: Entry[] = [];
  for (const dirent of dirents) {
    if (dirent.isDirectory() && isValidSegment(dirent.name)) {
      entries.push({ sortKey: `${dirent.name}/`, segment: dirent.name, isDirectory: true });
      continue;
    }
    const segment = dirent.isFile() ? segmentOfBlobFile(dirent.name) : undefined;
    if (segment !== undefined && isValidSegment(segment)) {
      entries.push({ sortKey: segment, segment, isDirectory: false });
    }
  }
  return entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
}

/** Whether a subtree whose keys all start with `subtreePrefix` can hold a key > `after` that matches `prefix`. */
function subtreeMayMatch(subtreePrefix: string, prefix: string, after: string | undefined): boolean {
  if (!subtreePrefix.startsWith(prefix) && !prefix.startsWith(subtreePrefix)) return false;
  if (after === undefined) return true;
  return !(after > subtreePrefix && !after.startsWith(subtreePrefix));
}

async function* walkDir(
  dir: string,
  keyPrefix: string,
  prefix: string,
  after: string | undefined,
): AsyncGenerator<string> {
  for (const entry of await readEntries(dir)) {
    const key = `${keyPrefix}${entry.segment}`;
    if (entry.isDirectory) {
      if (subtreeMayMatch(`${key}/`, prefix, after)) {
        yield* walkDir(path.join(dir, entry.segment), `${key}/`, prefix, after);
      }
    } else if (key.startsWith(prefix) && (after === undefined || key > after)) {
      yield key;
    }
  }
}

export function walkKeys(root: string, prefix: string, after: string | undefined): AsyncGenerator<string> {
  // Start at the deepest directory the prefix names whole; its last, partial segment filters entries.
  const slash = prefix.lastIndexOf("/");
  const dirPrefix = slash === -1 ? "" : prefix.slice(0, slash + 1);
  const startDir = path.join(root, ...dirPrefix.split("/").filter(Boolean));
  return walkDir(startDir, dirPrefix, prefix, after);
}
