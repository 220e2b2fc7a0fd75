import { mkdtemp, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { GitCli } from "./git-cli";

/**
 * Unpacking an archive downloaded from a git host. Member names are never trusted: the listing is checked first
 * (one top-level directory, no absolute or `..` paths, only files, directories and symlinks), then GNU tar unpacks
 * into a scratch directory beside the destination without restoring owners or permission bits, and the contents
 * move into place.
 */

export class ArchiveRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveRejectedError";
  }
}

/** Writes a web stream to `file`, refusing more than `maxBytes`. */
export async function saveStream(
  stream: ReadableStream<unknown>,
  file: string,
  maxBytes: number,
): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  const reader = stream.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array))
        throw new ArchiveRejectedError("The archive download is not binary data.");
      size += value.byteLength;
      if (size > maxBytes) {
        throw new ArchiveRejectedError(
          `The archive is larger than ${Math.floor(maxBytes / 1024 / 1024)} MB; it is refused.`,
        );
      }
      await handle.write(value);
    }
  } finally {
    // Cancelling only rejects when the download already failed, and that failure already came out of read():
    // reporting it twice would hide which one happened first.
    await reader.cancel().catch((error: unknown) => error);
    await handle.close();
  }
}

function listingLines(output: Buffer): string[] {
  return output.toString("utf8").split("\n").filter(Boolean);
}

/** Extracts a .tar.gz with one top-level directory into `destDir` (empty), dropping that directory. */
export async function extractTarball(git: GitCli, archive: string, destDir: string): Promise<void> {
  const names = listingLines(await git.tar(["--quoting-style=escape", "-tzf", archive]));
  const types = listingLines(await git.tar(["--quoting-style=escape", "--numeric-owner", "-tvzf", archive]));
  if (names.length === 0) throw new ArchiveRejectedError("The archive is empty.");
  if (names.length !== types.length) throw new ArchiveRejectedError("The archive listing is inconsistent.");
  const top = names[0]?.split("/")[0] ?? "";
  for (const [index, name] of names.entries()) {
    const parts = name.split("/");
    if (name.startsWith("/") || parts.includes("..") || !top || parts[0] !== top) {
      throw new ArchiveRejectedError(
        `The archive contains the unsafe member ${JSON.stringify(name.slice(0, 200))}.`,
      );
    }
    const type = types[index]?.[0];
    if (type !== "-" && type !== "d" && type !== "l") {
      throw new ArchiveRejectedError(
        `The archive member ${JSON.stringify(name.slice(0, 200))} is a special file (${type ?? "?"}), refused.`,
      );
    }
  }
  // Unpacked inside the destination (same filesystem, so the final moves are renames) under a random name that the
  // archive's own entries will not have; nothing is ever written outside the destination.
  const scratch = await mkdtemp(path.join(destDir, ".kiln-unpack-"));
  try {
    await git.tar(["-xzf", archive, "-C", scratch, "--no-same-owner", "--no-same-permissions"], {
      timeoutMs: 300_000,
    });
    const root = path.join(scratch, top);
    for (const entry of await readdir(root)) await rename(path.join(root, entry), path.join(destDir, entry));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
