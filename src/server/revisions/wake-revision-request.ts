import type { Executor } from "@/server/db/connection";
import { findSandboxRow } from "@/server/db/queries/pipeline";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import { AppError } from "@/server/errors";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { assertBranchRetained, type RetentionContext } from "./assert-branch-retained";
import { toRevisionDto } from "./revision-dto";
import type { RevisionDto } from "./revision-types";

/**
 * Checks that the operator may wake this checkpoint's preview now: theirs (else not found), finished with a commit
 * and a database branch retention kept, and asleep. Returns the checkpoint as it is; the wake itself runs after the
 * response (pipeline/wake-revision.ts).
 */
export async function requestWake(
  db: Executor,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
  retention: RetentionContext = {},
): Promise<RevisionDto> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  if (revision.status !== "finished") {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${revision.ordinal} is ${revision.status}: only a finished checkpoint's preview can be woken.`,
    );
  }
  if (!revision.commit_sha || !revision.db_branch_id) {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${revision.ordinal} has no commit and database to wake a preview from.`,
    );
  }
  // Checked after ownership: the sandbox row is read by the id the owner's revision holds.
  const sandbox = revision.sandbox_id ? await findSandboxRow(db, revision.sandbox_id) : undefined;
  if (sandbox && sandbox.stopped_at === null) {
    throw new AppError(
      "conflict:revision_state",
      `The preview of checkpoint ${revision.ordinal} is already awake.`,
    );
  }
  await assertBranchRetained(db, revision, "woken", retention);
  return toRevisionDto(revision, origins);
}
