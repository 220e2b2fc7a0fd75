import type { Executor } from "@/server/db/connection";
import { languageOf } from "@/server/highlight/languages";
import { loadCheckpointCode } from "./checkpoint-code";
import type { ProvidersFor } from "./committed-checkpoint";
import { getCommittedCheckpoint } from "./committed-checkpoint";
import { getRevisionDiff } from "./revision-diff";
import type { CheckpointFileChange, CheckpointFiles } from "./revision-files-types";

/**
 * The files of checkpoint `revisionId`'s commit for its owner (the Code tab's tree), each marked with what the
 * checkpoint did to it. Another operator's reads as not_found:revision; one without a commit yet is
 * conflict:revision_not_ready.
 */
export async function getRevisionFiles(
  db: Executor,
  userId: string,
  revisionId: string,
  providersFor: ProvidersFor,
): Promise<CheckpointFiles> {
  const checkpoint = await getCommittedCheckpoint(db, userId, revisionId, providersFor);
  const [snapshot, diff] = await Promise.all([
    loadCheckpointCode(checkpoint.providers, checkpoint.project, checkpoint.revisionId, checkpoint.headSha),
    getRevisionDiff(db, userId, revisionId, providersFor),
  ]);
  const changes = new Map<string, CheckpointFileChange>();
  for (const file of diff.files) if (file.status !== "deleted") changes.set(file.path, file.status);
  return {
    headSha: snapshot.headSha,
    files: snapshot.files.map((file) => ({
      path: file.path,
      size: file.size,
      kind: file.kind,
      language: file.kind === "text" ? languageOf(file.path) : null,
      change: changes.get(file.path) ?? null,
    })),
    truncated: snapshot.truncated,
  };
}
