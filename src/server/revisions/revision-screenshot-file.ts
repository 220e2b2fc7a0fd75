import type { Executor } from "@/server/db/connection";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import type { BlobStore } from "@/server/integrations/blob-store/port";

/** The project's blob store; injected so tests pass a local store and the route the one the server is set up with. */
export type BlobStoreFor = (project: Project) => BlobStore | Promise<BlobStore>;

/**
 * The PNG of a revision's preview, for its owner. Another operator's revision reads as missing (not_found:revision);
 * a revision without a screenshot, or whose blob is gone, is not_found:screenshot.
 */
export async function getRevisionScreenshot(
  db: Executor,
  userId: string,
  revisionId: string,
  blobFor: BlobStoreFor,
): Promise<Buffer> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  if (!revision.screenshot_key) throw new AppError("not_found:screenshot");
  const project = await findProjectOfUser(db, userId, revision.project_id);
  if (!project) throw new AppError("not_found:revision");
  const blob = await (await blobFor(project)).get(revision.screenshot_key);
  if (!blob) throw new AppError("not_found:screenshot");
  return blob.body;
}
