import path from "node:path";

/**
 * How keys map to files under the root. Keys "a" and "a/b" must coexist, which a file and a directory of the same
 * name cannot: so every key segment but the last is a plain directory name, and the last segment names a file
 * `<segment>~blob`. "~" is never part of a key, so blob files, directories and temp files (`<segment>~tmp-<hex>`)
 * can never collide, and anything else in the tree (an operator's stray file) is ignored.
 */

export const blobSuffix = "~blob";
export const tempMarker = "~tmp-";

export function blobPath(root: string, key: string): string {
  const segments = key.split("/");
  const last = segments.pop() ?? key;
  return path.join(root, ...segments, `${last}${blobSuffix}`);
}

export function tempPathFor(finalPath: string, nonce: string): string {
  return `${finalPath.slice(0, -blobSuffix.length)}${tempMarker}${nonce}`;
}

/** The key segment a directory entry names, or undefined for entries that are not blobs. */
export function segmentOfBlobFile(name: string): string | undefined {
  if (!name.endsWith(blobSuffix)) return undefined;
  const segment = name.slice(0, -blobSuffix.length);
  return segment.includes("~") ? undefined : segment;
}

/** Directories from the blob's own up to (not including) the root, deepest first. */
export function parentDirsUpToRoot(root: string, filePath: string): string[] {
  const dirs: string[] = [];
  let dir = path.dirname(filePath);
  while (dir.startsWith(`${root}${path.sep}`)) {
    dirs.push(dir);
    dir = path.dirname(dir);
  }
  return dirs;
}
