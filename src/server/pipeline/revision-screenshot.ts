import type { Database } from "@/server/db/connection";
import { updateRevisionRow } from "@/server/db/queries/pipeline";
import type { BlobStore } from "@/server/integrations/blob-store/port";

/** Where a revision's preview screenshot lives in the project's blob store (one per revision; a retake replaces it). */
export function revisionScreenshotKey(revisionId: string): string {
  return `screenshots/${revisionId}.png`;
}

/**
 * Stores the PNG, then records its key on the revision. Blob first: a revision never points at a screenshot that
 * is not there, and a retry after a crash between the two just rewrites the same key.
 */
export async function saveRevisionScreenshot(
  deps: { db: Database; blob: BlobStore },
  revisionId: string,
  png: Buffer,
): Promise<string> {
  const key = revisionScreenshotKey(revisionId);
  await deps.blob.put(key, png, { contentType: "image/png" });
  await updateRevisionRow(deps.db, revisionId, { screenshot_key: key, updated_at: Date.now() });
  return key;
}
