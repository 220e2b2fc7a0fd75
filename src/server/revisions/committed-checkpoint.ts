import type { Executor } from "@/server/db/connection";
import { findProjectOfUser } from "@/server/db/queries/projects";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import type { Providers } from "@/server/integrations/registry";

export type ProvidersFor = (project: Project) => Promise<Providers>;

export type CommittedCheckpoint = {
  revisionId: string;
  baseSha: string | null;
  headSha: string;
  project: Project;
  providers: Providers;
};

/**
 * Checkpoint `revisionId` of operator `userId` with its commit, project and providers. Another operator's reads as
 * not_found:revision; one without a commit yet is conflict:revision_not_ready.
 */
export async function getCommittedCheckpoint(
  db: Executor,
  userId: string,
  revisionId: string,
  providersFor: ProvidersFor,
): Promise<CommittedCheckpoint> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  const headSha = revision.commit_sha;
  if (!headSha) {
    throw new AppError(
      "conflict:revision_not_ready",
      `Checkpoint ${revision.ordinal} has no commit yet: its code and changes can be shown once it is committed.`,
    );
  }
  const project = await findProjectOfUser(db, userId, revision.project_id);
  if (!project) throw new AppError("not_found:revision");
  return {
    revisionId: revision.id,
    baseSha: revision.base_sha,
    headSha,
    project,
    providers: await providersFor(project),
  };
}
