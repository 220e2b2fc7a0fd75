import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SandboxWithOwner } from "@/server/db/queries/events";
import {
  findRevisionById,
  getProjectById,
  getRevisionById,
  getTaskById,
  updateRevisionRow,
} from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import type { RepoRef } from "@/server/integrations/git-host/port";
import { ProviderError } from "@/server/integrations/provider-error";
import { repoRefOf } from "@/server/projects/project-resources";
import { restoredBuildKey, storeRunnerBuild } from "../build-output";
import type { LoadedRevision, PipelineDeps, RunnerEventDeps } from "../pipeline-deps";
import { emit, type RunScope, runStep } from "../run-step";
import { runnerSandboxOf } from "../runner-sandbox";
import type { Provisioned } from "./provision";

// Commit: the checkpoint's code becomes a commit on its task's branch, platform side, so no git credential ever
// enters a sandbox. Both ways are idempotent: a revision whose commit is stored is never committed again.

function repoOf(project: Project): RepoRef {
  const repo = repoRefOf(project);
  if (!repo) {
    throw new ProviderError(
      "local-git",
      "internal",
      "The project has no repository yet: provisioning did not finish.",
    );
  }
  return repo;
}

/** What `runner.committed` names: the bundle, the tree it commits, and the verified build when the runner packed it. */
export type RunnerCommit = { bundleFile: string; treeSha: string; buildFile?: string };

/**
 * The runner's git bundle (the agent's work, committed in the sandbox) becomes the real commit; the verified build
 * it handed back with it is kept for the deploy (build-output.ts).
 */
export async function commitFromRunner(
  deps: RunnerEventDeps,
  scope: RunScope,
  row: SandboxWithOwner,
  committed: RunnerCommit,
): Promise<void> {
  const revision = await getRevisionById(deps.db, scope.revisionId);
  if (revision.commit_sha) return;
  const [project, task] = await Promise.all([
    getProjectById(deps.db, scope.projectId),
    getTaskById(deps.db, scope.taskId),
  ]);
  const providers = await deps.providersFor(project);
  const repo = repoOf(project);
  const parent = revision.parent_revision_id
    ? await findRevisionById(deps.db, revision.parent_revision_id)
    : undefined;
  const parentSha = parent?.commit_sha ?? (await providers.git.resolveRef(repo, task.branch));
  if (!parentSha)
    throw new ProviderError("local-git", "not_found", `The branch ${task.branch} does not exist.`);
  const sandbox = await runnerSandboxOf(providers, row);
  const bundle = await sandbox.readFile(committed.bundleFile);
  if (!bundle)
    throw new ProviderError(
      "local-sandbox",
      "not_found",
      "The sandbox reported a commit but its bundle is missing.",
    );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-bundle-"));
  try {
    const bundlePath = path.join(dir, "out.bundle");
    await fs.writeFile(bundlePath, bundle);
    const { sha } = await providers.git.commitFromBundle(repo, {
      branch: task.branch,
      parentSha,
      bundlePath,
      // The operator's words, not the agent's expanded instructions (which the runner knows the run by).
      message: revision.prompt.slice(0, 2_000),
      author: { name: "Kiln Agent", email: "agent@kiln.local" },
    });
    // Stored before the commit is recorded: a retry after a crash stores it again, never skips it.
    const buildKey = committed.buildFile
      ? await storeRunnerBuild(providers.blob, sandbox, {
          projectId: scope.projectId,
          treeSha: committed.treeSha,
          buildFile: committed.buildFile,
        })
      : null;
    await updateRevisionRow(deps.db, scope.revisionId, {
      commit_sha: sha,
      build_key: buildKey,
      updated_at: Date.now(),
    });
    await emit(scope, {
      type: "progress",
      payload: { message: `Committed ${sha.slice(0, 7)} to ${task.branch}.` },
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A restore: the restored checkpoint's tree becomes a new commit on top of the branch's head. */
export async function commitRestoreStep(
  deps: PipelineDeps,
  scope: RunScope,
  loaded: LoadedRevision,
  provisioned: Provisioned,
  target: { ordinal: number; commitSha: string },
  resume = false,
): Promise<string | undefined> {
  return runStep(
    scope,
    "committing",
    "commit",
    async () => {
      // Resumed after the commit was stored: it is not made twice.
      const stored = (await getRevisionById(deps.db, scope.revisionId)).commit_sha;
      if (stored) return stored;
      const head = await deps.providers.git.resolveRef(provisioned.repo, loaded.task.branch);
      // A task none of whose checkpoints committed has no branch yet: it starts at the restored commit.
      if (!head)
        await deps.providers.git.createBranch(provisioned.repo, loaded.task.branch, target.commitSha);
      const sha =
        head === target.commitSha || !head
          ? target.commitSha
          : (
              await deps.providers.git.commitTree(provisioned.repo, {
                branch: loaded.task.branch,
                parentSha: head,
                treeOfSha: target.commitSha,
                // "Restore checkpoint N", or "Promote checkpoint N of <branch>" onto another task.
                message: loaded.revision.prompt.slice(0, 2_000),
                author: { name: "Kiln", email: "kiln@kiln.local" },
              })
            ).sha;
      // The restore's diff is against the head it was committed on top of, not the checkpoint it brings back.
      // Its tree is the target's, so it deploys the target's verified build.
      await updateRevisionRow(deps.db, scope.revisionId, {
        commit_sha: sha,
        base_sha: head ?? provisioned.baseSha,
        build_key: await restoredBuildKey(deps.db, scope.revisionId),
        updated_at: Date.now(),
      });
      return sha;
    },
    resume,
  );
}
