import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ProviderError } from "../provider-error";
import { tempPathFor } from "./local-layout";

/**
 * One blob = one file: an 8-byte magic, a 4-byte big-endian header length, a JSON header (content type, upload
 * time), then the body. Metadata and body therefore change together in a single rename — a sidecar file would let
 * two racing puts leave one's body with the other's content type.
 */

const magic = Buffer.from("KILNBLB1", "ascii");
const prefixLength = magic.length + 4;
const maxHeaderLength = 64 * 1024;
const createAttempts = 3;

const headerSchema = z.object({ contentType: z.string().min(1), uploadedAt: z.iso.datetime() });

export type StoredHeader = { contentType: string; uploadedAt: Date };
export type StoredBlob = StoredHeader & { size: number; body: Buffer | undefined };

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && "code" in error && codes.includes(String(error.code));
}

export function encodeHeader(header: StoredHeader): Buffer {
  const json = Buffer.from(
    JSON.stringify({ contentType: header.contentType, uploadedAt: header.uploadedAt.toISOString() }),
    "utf8",
  );
  const prefix = Buffer.alloc(prefixLength);
  magic.copy(prefix, 0);
  prefix.writeUInt32BE(json.length, magic.length);
  return Buffer.concat([prefix, json]);
}

function damaged(filePath: string, why: string): ProviderError {
  return new ProviderError(
    "local-blob",
    "internal",
    `Blob file ${filePath} is damaged (${why}); restore it from a backup or delete the blob.`,
  );
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    // A concurrent replace renames a new file into place; this handle keeps reading the old inode, so a short
    // read can only mean truncation by something other than Kiln.
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Reads a blob file's metadata (and body when asked); null when the file does not exist. */
export async function readBlobFile(filePath: string, withBody: boolean): Promise<StoredBlob | null> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, "r");
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return null;
    throw error;
  }
  try {
    const { size: fileSize } = await handle.stat();
    const prefix = await readExactly(handle, prefixLength, 0);
    if (prefix.length < prefixLength || !prefix.subarray(0, magic.length).equals(magic)) {
      throw damaged(filePath, "not a Kiln blob file");
    }
    const headerLength = prefix.readUInt32BE(magic.length);
    if (headerLength > maxHeaderLength || prefixLength + headerLength > fileSize) {
      throw damaged(filePath, "header length out of range");
    }
    const headerBytes = await readExactly(handle, headerLength, prefixLength);
    let parsed: unknown;
    try {
      parsed = JSON.parse(headerBytes.toString("utf8"));
    } catch (error) {
      if (error instanceof SyntaxError) throw damaged(filePath, "header is not JSON");
      throw error;
    }
    const header = headerSchema.safeParse(parsed);
    if (!header.success) throw damaged(filePath, "header fields missing");
    const size = fileSize - prefixLength - headerLength;
    const body = withBody ? await readExactly(handle, size, prefixLength + headerLength) : undefined;
    if (body && body.length !== size) throw damaged(filePath, "body shorter than the file size");
    return {
      contentType: header.data.contentType,
      uploadedAt: new Date(header.data.uploadedAt),
      size,
      body,
    };
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories; the rename is still atomic there, only less durable.
    if (!isErrno(error, "EINVAL", "EPERM", "EISDIR", "EBADF")) throw error;
  } finally {
    await handle.close();
  }
}

async function createTempFile(finalPath: string): Promise<{ handle: FileHandle; tempPath: string }> {
  const dir = path.dirname(finalPath);
  let lastError: unknown;
  for (let attempt = 1; attempt <= createAttempts; attempt++) {
    const tempPath = tempPathFor(finalPath, randomBytes(8).toString("hex"));
    try {
      await mkdir(dir, { recursive: true });
      return { handle: await open(tempPath, "wx", 0o600), tempPath };
    } catch (error) {
      // A concurrent delete prunes empty directories: one may vanish while mkdir builds the path or before open
      // creates the temp file in it. Retry, bounded.
      if (!isErrno(error, "ENOENT")) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * Writes header + body to a temp file in the blob's directory, fsyncs it, and renames it over the blob: readers
 * see the old version or the new one, never a mix, and concurrent puts of one key leave one complete version.
 */
export async function writeBlobFile(finalPath: string, header: Buffer, body: Buffer): Promise<void> {
  const { handle, tempPath } = await createTempFile(finalPath);
  try {
    try {
      await handle.writeFile(header);
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, finalPath);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(finalPath));
}
