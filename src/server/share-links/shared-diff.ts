import type { Executor } from "@/server/db/connection";
import { findCheckpointOfTask } from "@/server/db/queries/share-links";
import { AppError, isAppError } from "@/server/errors";
import { createRedactor } from "@/server/events/redact";
import type { ProvidersFor } from "@/server/revisions/committed-checkpoint";
import { highlightDiff } from "@/server/revisions/highlight-diff";
import { getRevisionDiff } from "@/server/revisions/revision-diff";
import type { HighlightedDiff, RevisionDiff } from "@/server/revisions/revision-diff-types";
import { loadPublicEventContext, type PublicSite } from "./public-events";
import { getPublicSessionOrThrow } from "./shared-session";

/** Token shapes only (`scheme://user:password@`, `sk-…`, …): code is not redacted at ingestion like events are. */
const tokenShapes = createRedactor([]);

/**
 * What a shared session's checkpoint changed, by ordinal, for anyone holding the link: the operator's diff
 * (`getRevisionDiff`, on behalf of the link's owner), with credential-shaped strings redacted and the platform's
 * ids scrubbed, its patches coloured. An unknown or revoked link, or an unknown checkpoint, is not_found:route; a checkpoint without a
 * commit yet is conflict:revision_not_ready.
 */
export async function getSharedCheckpointDiff(
  db: Executor,
  site: PublicSite,
  slug: string,
  ordinal: number,
  providersFor: ProvidersFor,
): Promise<HighlightedDiff> {
  const session = await getPublicSessionOrThrow(db, slug);
  const checkpoint = await findCheckpointOfTask(db, session.task_id, ordinal);
  if (!checkpoint) throw new AppError("not_found:route");
  let diff: RevisionDiff;
  try {
    diff = await getRevisionDiff(db, session.user_id, checkpoint.id, providersFor);
  } catch (error) {
    // The revision was deleted between the two reads: answered like any unknown checkpoint.
    if (isAppError(error) && error.code === "not_found:revision") throw new AppError("not_found:route");
    throw error;
  }
  const context = await loadPublicEventContext(db, site, session);
  const clean = (text: string) => context.scrub(tokenShapes(text));
  // Coloured after scrubbing, so the tokens hold only the text the replay may show.
  return highlightDiff({
    ...diff,
    files: diff.files.map((file) => ({
      ...file,
      path: clean(file.path),
      oldPath: file.oldPath === null ? null : clean(file.oldPath),
      patch: clean(file.patch),
    })),
  });
}
