import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";

/** The destination of an export: it must be empty (or missing) so an export never mixes with other files. */

export class ExportDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportDirError";
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

/** Creates `destDir` or checks that it is an empty directory; returns its absolute path. */
export async function prepareExportDir(destDir: string): Promise<string> {
  const absolute = path.resolve(destDir);
  const entries = await readdir(absolute).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    if (error instanceof Error && "code" in error && error.code === "ENOTDIR")
      throw new ExportDirError(`The export destination ${absolute} is a file, not a directory.`);
    throw error;
  });
  if (entries === undefined) await mkdir(absolute, { recursive: true });
  else if (entries.length > 0)
    throw new ExportDirError(
      `The export destination ${absolute} is not empty; exports need an empty directory.`,
    );
  return absolute;
}

/** Removes what a failed export left behind, keeping the (now empty) directory itself. */
export async function emptyExportDir(absolute: string): Promise<void> {
  const entries = await readdir(absolute).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw error;
  });
  await Promise.all(entries.map((entry) => rm(path.join(absolute, entry), { recursive: true, force: true })));
}
