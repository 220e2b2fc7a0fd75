import { rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { ProviderError, type ProviderErrorKind } from "../provider-error";
import { mapWithConcurrency } from "./concurrency";
import {
  assertValidKey,
  assertValidPrefix,
  isValidKey,
  resolveContentType,
  resolveLimit,
  toBuffer,
} from "./keys";
import { encodeHeader, isErrno, readBlobFile, writeBlobFile } from "./local-file";
import { blobPath, parentDirsUpToRoot } from "./local-layout";
import { walkKeys } from "./local-walk";
import type { BlobInfo, BlobStore } from "./port";

/**
 * BlobStore on the local filesystem: one file per blob under `root` (see local-layout.ts and local-file.ts), written
 * atomically, listed in key order straight from the directory tree. Safe for concurrent use by several processes on
 * one box (every write is a rename); not meant for a shared network filesystem.
 */

export type LocalBlobStoreOptions = {
  /** Directory holding the blobs, e.g. `<dataDir>/blobs`; created on first write. */
  root: string;
};

const vendor = "local-blob";
// Enough to overlap disk latency without exhausting file handles when a page of 1000 is listed.
const fileConcurrency = 16;

function kindForErrno(error: unknown): { kind: ProviderErrorKind; advice: string } {
  if (isErrno(error, "EACCES", "EPERM", "EROFS")) {
    return { kind: "forbidden", advice: "give the Kiln process read/write access to that directory" };
  }
  if (isErrno(error, "ENOSPC", "EDQUOT")) return { kind: "unavailable", advice: "free disk space" };
  if (isErrno(error, "EMFILE", "ENFILE", "EBUSY", "EAGAIN")) {
    return { kind: "unavailable", advice: "retry; the system is short of file handles" };
  }
  if (isErrno(error, "ENOTDIR", "EISDIR")) {
    return {
      kind: "internal",
      advice: "something other than Kiln wrote into the blob directory; move it away",
    };
  }
  return { kind: "internal", advice: "check the server log and the directory's health" };
}

function toProviderError(error: unknown, action: string, root: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const { kind, advice } = kindForErrno(error);
  const detail = error instanceof Error ? error.message : String(error);
  return new ProviderError(vendor, kind, `Could not ${action} under ${root}: ${detail} — ${advice}.`, {
    cause: error,
  });
}

function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (isValidKey(key) && encodeCursor(key) === cursor) return key;
  throw new ProviderError(
    vendor,
    "invalid",
    "The list cursor is not valid: pass the cursor returned by the previous page unchanged.",
  );
}

async function pruneEmptyDirs(root: string, filePath: string): Promise<void> {
  for (const dir of parentDirsUpToRoot(root, filePath)) {
    try {
      await rmdir(dir);
    } catch (error) {
      // Not empty (other blobs, or a put's temp file) or already pruned by a concurrent delete: stop here.
      if (isErrno(error, "ENOTEMPTY", "EEXIST", "ENOENT")) return;
      throw error;
    }
  }
}

export function createLocalBlobStore(options: LocalBlobStoreOptions): BlobStore {
  const root = path.resolve(options.root);

  async function infoOf(key: string): Promise<BlobInfo | null> {
    const stored = await readBlobFile(blobPath(root, key), false);
    return (
      stored && { key, size: stored.size, uploadedAt: stored.uploadedAt, contentType: stored.contentType }
    );
  }

  return {
    kind: "local",

    async put(key, body, putOptions) {
      assertValidKey(key, vendor);
      const contentType = resolveContentType(putOptions?.contentType, vendor);
      const bytes = toBuffer(body);
      const uploadedAt = new Date();
      try {
        await writeBlobFile(blobPath(root, key), encodeHeader({ contentType, uploadedAt }), bytes);
      } catch (error) {
        throw toProviderError(error, `store blob "${key}"`, root);
      }
      return { key, size: bytes.length, uploadedAt, contentType };
    },

    async get(key) {
      assertValidKey(key, vendor);
      try {
        const stored = await readBlobFile(blobPath(root, key), true);
        if (!stored?.body) return null;
        const info = {
          key,
          size: stored.size,
          uploadedAt: stored.uploadedAt,
          contentType: stored.contentType,
        };
        return { body: stored.body, info };
      } catch (error) {
        throw toProviderError(error, `read blob "${key}"`, root);
      }
    },

    async head(key) {
      assertValidKey(key, vendor);
      try {
        return await infoOf(key);
      } catch (error) {
        throw toProviderError(error, `read blob "${key}"`, root);
      }
    },

    async list(prefix, listOptions) {
      assertValidPrefix(prefix, vendor);
      const limit = resolveLimit(listOptions?.limit, vendor);
      const after = listOptions?.cursor === undefined ? undefined : decodeCursor(listOptions.cursor);
      try {
        const keys: string[] = [];
        // One extra key tells whether another page exists without a second walk.
        for await (const key of walkKeys(root, prefix, after)) {
          keys.push(key);
          if (keys.length > limit) break;
        }
        const page = keys.slice(0, limit);
        const infos = await mapWithConcurrency(page, fileConcurrency, infoOf);
        const last = page.at(-1);
        return {
          // A blob deleted between the walk and its read is simply not listed.
          items: infos.filter((info): info is BlobInfo => info !== null),
          cursor: keys.length > limit && last !== undefined ? encodeCursor(last) : null,
        };
      } catch (error) {
        throw toProviderError(error, `list blobs under "${prefix}"`, root);
      }
    },

    async delete(keys) {
      for (const key of keys) assertValidKey(key, vendor);
      try {
        await mapWithConcurrency([...new Set(keys)], fileConcurrency, async (key) => {
          const filePath = blobPath(root, key);
          await rm(filePath, { force: true });
          await pruneEmptyDirs(root, filePath);
        });
      } catch (error) {
        throw toProviderError(error, "delete blobs", root);
      }
    },
  };
}
