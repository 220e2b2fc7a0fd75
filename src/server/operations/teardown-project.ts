import type { Executor } from "@/server/db/connection";
import { findProjectOfUser, listProjectOutsideIds } from "@/server/db/queries/projects";
import type { Project } from "@/server/db/schema";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { deleteAgentSession } from "@/server/pipeline/agent-sessions";
import { deleteStoredBuilds } from "@/server/pipeline/build-output";
import { revisionScreenshotKey } from "@/server/pipeline/revision-screenshot";
import { revisionCodeKey } from "@/server/revisions/checkpoint-code";
import { revisionDiffKey } from "@/server/revisions/revision-diff";
import { dbRootOf, repoRefOf } from "../projects/project-resources";

// A deleted project's resources outside the control-plane database: running sandboxes and deployments stop, its
// database root (every branch) and its blobs go, and a local repository goes too. A GitHub repository stays: it is
// the operator's code in the operator's account, and deleting it there is their call.

export type ProjectLeftovers = {
  project: Project;
  sandboxIds: string[];
  deploymentIds: string[];
  revisionIds: string[];
};

/** Read before the project's rows are deleted; undefined when the project is not the operator's. */
export async function findProjectLeftovers(
  db: Executor,
  userId: string,
  projectId: string,
): Promise<ProjectLeftovers | undefined> {
  const project = await findProjectOfUser(db, userId, projectId);
  if (!project) return undefined;
  return { project, ...(await listProjectOutsideIds(db, project.id)) };
}

async function attempt(what: string, work: () => Promise<unknown>, failures: string[]): Promise<void> {
  try {
    await work();
  } catch (error) {
    // One resource that will not go must not keep the others: each failure is logged and reported.
    logError(`deleting ${what}`, error);
    failures.push(what);
  }
}

/** Best effort, every step tried; returns what could not be removed (already logged). */
export async function tearDownProject(providers: Providers, leftovers: ProjectLeftovers): Promise<string[]> {
  const failures: string[] = [];
  for (const id of leftovers.sandboxIds) {
    await attempt(`sandbox ${id}`, async () => (await providers.sandboxes.get(id))?.stop(), failures);
  }
  for (const id of leftovers.deploymentIds) {
    await attempt(`deployment ${id}`, () => providers.deployer.remove(id), failures);
  }
  const root = dbRootOf(leftovers.project);
  if (root) await attempt(`database ${root.name}`, () => providers.database.deleteRoot(root), failures);
  const repo = repoRefOf(leftovers.project);
  if (repo && providers.git.ownsRepos)
    await attempt(`repository ${repo.fullName}`, () => providers.git.deleteRepo(repo), failures);
  for (const revisionId of leftovers.revisionIds) {
    await attempt(
      `files of checkpoint ${revisionId}`,
      async () => {
        await deleteAgentSession(providers.blob, revisionId);
        await providers.blob.delete([
          revisionScreenshotKey(revisionId),
          revisionDiffKey(revisionId),
          revisionCodeKey(revisionId),
        ]);
      },
      failures,
    );
  }
  await attempt(
    `stored builds of ${leftovers.project.id}`,
    () => deleteStoredBuilds(providers.blob, leftovers.project.id),
    failures,
  );
  return failures;
}
