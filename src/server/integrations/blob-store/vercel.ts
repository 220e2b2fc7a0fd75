import { BlobNotFoundError, BlobRequestAbortedError, del, head, list, put } from "@vercel/blob";
import { z } from "zod";
import { ProviderError } from "../provider-error";
import { mapWithConcurrency } from "./concurrency";
import {
  assertValidKey,
  assertValidPrefix,
  isValidKey,
  resolveContentType,
  resolveLimit,
  toBuffer,
} from "./keys";
import type { BlobInfo, BlobStore } from "./port";
import { type BlobCallContext, vercelBlobError, vercelBlobStatusError } from "./vercel-errors";

/**
 * BlobStore on Vercel Blob through @vercel/blob 2.x, with **private** blobs (`access: "private"`): a blob's URL
 * answers only with the store's token, and this adapter never hands a URL out — callers get bytes and BlobInfo.
 *
 * Base URL: the SDK reads `VERCEL_BLOB_API_URL` from the environment on every call and has no option for it; this
 * adapter reads no environment itself. The platform validates and sets that variable once at boot (src/env), never
 * per request; tests set it once per test file. Same for `VERCEL_BLOB_RETRIES` (the SDK's own retry count for
 * outages and network errors, default 10 with exponential backoff): keep it small, because each call here is also
 * bounded by `timeoutMs`.
 *
 * Reads: the SDK's `get()` builds `https://<store>.private.blob.vercel-storage.com/<path>` itself and refuses any
 * other host, so a read is `head()` (the API's answer names the blob URL) and then a fetch of that URL with the
 * token — the same request `get()` sends. The token only goes to Vercel's blob hosts or to origins the operator
 * listed in `trustedBlobOrigins`.
 */

export type VercelBlobStoreOptions = {
  /** A read-write token of the Blob store (`vercel_blob_rw_<storeId>_…`). */
  token: string;
  /** Bound on each operation, including the SDK's own retries. Default 30 s. */
  timeoutMs?: number;
  /** For blob body downloads. Default: global fetch. */
  fetch?: typeof fetch;
  /**
   * Origins besides Vercel's `https://*.blob.vercel-storage.com` allowed to receive the token when a blob body is
   * downloaded: a Blob-compatible endpoint behind VERCEL_BLOB_API_URL, or a test fake.
   */
  trustedBlobOrigins?: string[];
};

const vercelBlobHostSuffix = ".blob.vercel-storage.com";
const defaultTimeoutMs = 30_000;
// Listing needs one head per blob (the list API has no content type); keep the fan-out polite.
const headConcurrency = 8;
const deleteBatchSize = 100;

const headSchema = z.object({
  url: z.string().min(1),
  pathname: z.string(),
  size: z.number().int().nonnegative(),
  contentType: z.string().min(1),
  uploadedAt: z.date(),
});
const putSchema = z.object({ pathname: z.string(), contentType: z.string().min(1) });
const listSchema = z.object({
  blobs: z.array(z.object({ pathname: z.string() })),
  cursor: z.string().optional(),
  hasMore: z.boolean(),
});

function unexpected(action: string, error: z.ZodError): ProviderError {
  const fields = error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
  return new ProviderError(
    "vercel",
    "internal",
    `Vercel Blob answered ${action} in an unexpected shape (fields: ${fields}); check VERCEL_BLOB_API_URL and the @vercel/blob version.`,
    { cause: error },
  );
}

function parse<T>(schema: z.ZodType<T>, value: unknown, action: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw unexpected(action, result.error);
  return result.data;
}

export function createVercelBlobStore(options: VercelBlobStoreOptions): BlobStore {
  const { token } = options;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const trustedOrigins = new Set((options.trustedBlobOrigins ?? []).map((origin) => new URL(origin).origin));

  function context(action: string): BlobCallContext {
    return { action, token, timeoutMs };
  }

  /**
   * Runs one call under a deadline. The abort reaches the SDK's in-flight request (a plain abort, which the SDK
   * turns into BlobRequestAbortedError and does not retry); the race also covers its retry backoff sleeps, which
   * no signal interrupts.
   */
  async function bounded<T>(action: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new BlobRequestAbortedError());
      }, timeoutMs);
    });
    try {
      return await Promise.race([call(controller.signal), deadline]);
    } catch (error) {
      throw vercelBlobError(error, context(action));
    } finally {
      clearTimeout(timer);
    }
  }

  async function headBlob(key: string): Promise<{ info: BlobInfo; url: string } | null> {
    const action = `reading blob "${key}"`;
    let answer: unknown;
    try {
      answer = await bounded(action, (abortSignal) => head(key, { token, abortSignal }));
    } catch (error) {
      if (error instanceof ProviderError && error.cause instanceof BlobNotFoundError) return null;
      throw error;
    }
    const blob = parse(headSchema, answer, action);
    if (blob.pathname !== key) return null;
    return {
      url: blob.url,
      info: { key, size: blob.size, uploadedAt: blob.uploadedAt, contentType: blob.contentType },
    };
  }

  function assertTrustedUrl(url: string, action: string): URL {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    const trusted =
      parsed !== undefined &&
      ((parsed.protocol === "https:" && parsed.hostname.endsWith(vercelBlobHostSuffix)) ||
        trustedOrigins.has(parsed.origin));
    if (!parsed || !trusted) {
      throw new ProviderError(
        "vercel",
        "internal",
        `Vercel Blob named a download URL outside its blob hosts while ${action}; refusing to send the token there. ` +
          "If VERCEL_BLOB_API_URL points at a compatible endpoint, list its blob origin in trustedBlobOrigins.",
      );
    }
    return parsed;
  }

  async function download(
    url: string,
    key: string,
  ): Promise<{ body: Buffer; contentType: string | null } | null> {
    const action = `downloading blob "${key}"`;
    const target = assertTrustedUrl(url, action);
    // Private blobs are served through a cache; a just-replaced agent session must never come back stale.
    target.searchParams.set("cache", "0");
    return bounded(action, async (signal) => {
      const response = await fetchImpl(target, { headers: { authorization: `Bearer ${token}` }, signal });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw vercelBlobStatusError(response.status, context(action));
      }
      return {
        body: Buffer.from(await response.arrayBuffer()),
        contentType: response.headers.get("content-type"),
      };
    });
  }

  return {
    kind: "vercel",

    async put(key, body, putOptions) {
      assertValidKey(key, "vercel");
      const contentType = resolveContentType(putOptions?.contentType, "vercel");
      const bytes = toBuffer(body);
      const action = `storing blob "${key}"`;
      const answer = await bounded(action, (abortSignal) =>
        put(key, bytes, {
          access: "private",
          // The key is the address: replacing must overwrite it, never create "<key>-<random>".
          addRandomSuffix: false,
          allowOverwrite: true,
          contentType,
          token,
          abortSignal,
        }),
      );
      const stored = parse(putSchema, answer, action);
      if (stored.pathname !== key) {
        throw new ProviderError(
          "vercel",
          "internal",
          `Vercel Blob stored "${key}" under another pathname; check that the store honours addRandomSuffix: false.`,
        );
      }
      return { key, size: bytes.length, uploadedAt: new Date(), contentType: stored.contentType };
    },

    async get(key) {
      assertValidKey(key, "vercel");
      const found = await headBlob(key);
      if (!found) return null;
      const downloaded = await download(found.url, key);
      if (!downloaded) return null;
      return {
        body: downloaded.body,
        // Size and type from the bytes actually read: a replace may land between the head and the download.
        info: {
          ...found.info,
          size: downloaded.body.length,
          contentType: downloaded.contentType ?? found.info.contentType,
        },
      };
    },

    async head(key) {
      assertValidKey(key, "vercel");
      return (await headBlob(key))?.info ?? null;
    },

    async list(prefix, listOptions) {
      assertValidPrefix(prefix, "vercel");
      const limit = resolveLimit(listOptions?.limit, "vercel");
      const action = `listing blobs under "${prefix}"`;
      const answer = await bounded(action, (abortSignal) =>
        list({
          token,
          abortSignal,
          limit,
          ...(prefix ? { prefix } : {}),
          ...(listOptions?.cursor ? { cursor: listOptions.cursor } : {}),
        }),
      );
      const page = parse(listSchema, answer, action);
      // Blobs written by something else into the same store may break Kiln's key rules; they are not Kiln's.
      const keys = page.blobs.map((blob) => blob.pathname).filter(isValidKey);
      const infos = await mapWithConcurrency(
        keys,
        headConcurrency,
        async (key) => (await headBlob(key))?.info,
      );
      return {
        items: infos.filter((info): info is BlobInfo => info !== undefined),
        cursor: page.hasMore && page.cursor ? page.cursor : null,
      };
    },

    async delete(keys) {
      for (const key of keys) assertValidKey(key, "vercel");
      const unique = [...new Set(keys)];
      for (let start = 0; start < unique.length; start += deleteBatchSize) {
        const batch = unique.slice(start, start + deleteBatchSize);
        try {
          await bounded(`deleting ${batch.length} blob(s)`, (abortSignal) =>
            del(batch, { token, abortSignal }),
          );
        } catch (error) {
          // Deleting what is already gone is success.
          if (!(error instanceof ProviderError && error.cause instanceof BlobNotFoundError)) throw error;
        }
      }
    },
  };
}
