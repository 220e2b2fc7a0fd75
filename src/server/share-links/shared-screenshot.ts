import type { Executor } from "@/server/db/connection";
import { getProjectById } from "@/server/db/queries/pipeline";
import { findCheckpointOfTask } from "@/server/db/queries/share-links";
import { AppError } from "@/server/errors";
import type { BlobStoreFor } from "@/server/revisions/revision-screenshot-file";
import { getPublicSessionOrThrow } from "./shared-session";

/**
 * The PNG of a shared session's checkpoint, by ordinal, for anyone holding the link (the replay page and its Open
 * Graph image). An unknown or revoked slug is not_found:route; a checkpoint without a screenshot, or whose blob is
 * gone, is not_found:screenshot.
 */
export async function getSharedScreenshot(
  db: Executor,
  slug: string,
  ordinal: number,
  blobFor: BlobStoreFor,
): Promise<Buffer> {
  const session = await getPublicSessionOrThrow(db, slug);
  const checkpoint = await findCheckpointOfTask(db, session.task_id, ordinal);
  if (!checkpoint?.screenshot_key) throw new AppError("not_found:screenshot");
  const project = await getProjectById(db, checkpoint.project_id);
  const blob = await (await blobFor(project)).get(checkpoint.screenshot_key);
  if (!blob) throw new AppError("not_found:screenshot");
  return blob.body;
}
