/** BlobStore: private objects (agent sessions, screenshots, bundles). Never public URLs. */

export type BlobStoreKind = "vercel" | "local";

export type BlobInfo = { key: string; size: number; uploadedAt: Date; contentType: string };

export interface BlobStore {
  readonly kind: BlobStoreKind;
  /** Creates or replaces. Keys are "/"-separated paths of [A-Za-z0-9._-] segments. */
  put(key: string, body: Buffer | string, options?: { contentType?: string }): Promise<BlobInfo>;
  /** null when missing. */
  get(key: string): Promise<{ body: Buffer; info: BlobInfo } | null>;
  head(key: string): Promise<BlobInfo | null>;
  /** Everything under `prefix`, in key order, paged. */
  list(
    prefix: string,
    options?: { cursor?: string; limit?: number },
  ): Promise<{ items: BlobInfo[]; cursor: string | null }>;
  /** Idempotent. */
  delete(keys: string[]): Promise<void>;
}
