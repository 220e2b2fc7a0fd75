import type { Database } from "@/server/db/connection";
import {
  getProjectById,
  listCheckpointBranches,
  listProjectsWithDatabase,
  updateDbBranchRow,
} from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import { logError } from "@/server/http/log";
import type { DbRoot } from "@/server/integrations/database-branches/port";
import type { Providers } from "@/server/integrations/registry";
import { dbRootOf } from "@/server/projects/project-resources";
import { isTerminal } from "../revisions/state-machine";
import { pruneUnservableBuilds } from "./build-retention";

// Branch retention: every checkpoint gets a database branch of its own, and they add up (a file, a database, a TiDB
// branch each). Per task only the newest `keep` checkpoints keep theirs; an older checkpoint's branch is deleted and
// that checkpoint can no longer be restored or woken (assert-branch-retained.ts says so at request time).

export type RetentionDeps = { db: Database; providersFor(project: Project): Promise<Providers> };

type Checkpoint = Awaited<ReturnType<typeof listCheckpointBranches>>[number];

/**
 * The checkpoints whose branch may go. Deliberately conservative: a branch stays while anything could still read it
 * or fork from it — the newest `keep` of its task, the latest committed checkpoint (what a follow-up forks from),
 * the parent of a revision still running (a restore or follow-up about to fork), a running revision's own, one
 * behind an awake preview or a live deployment, and the root's main branch.
 */
export function branchesToPrune(checkpoints: Checkpoint[], keep: number): Checkpoint[] {
  const needed = new Set<string>();
  for (const checkpoint of checkpoints) {
    if (!isTerminal(checkpoint.status) && checkpoint.parent_revision_id) {
      needed.add(checkpoint.parent_revision_id);
    }
  }
  const byTask = new Map<string, Checkpoint[]>();
  for (const checkpoint of checkpoints) {
    byTask.set(checkpoint.task_id, [...(byTask.get(checkpoint.task_id) ?? []), checkpoint]);
  }
  const prune: Checkpoint[] = [];
  for (const ofTask of byTask.values()) {
    const newestFirst = [...ofTask].sort((a, b) => b.ordinal - a.ordinal);
    const latestCommitted = newestFirst.find((checkpoint) => checkpoint.commit_sha !== null);
    for (const checkpoint of newestFirst.slice(Math.max(1, keep))) {
      const awake = checkpoint.sandbox_row_id !== null && checkpoint.sandbox_stopped_at === null;
      const hasBranch =
        checkpoint.branch_id !== null &&
        checkpoint.branch_deleted_at === null &&
        checkpoint.branch_parent_id !== null;
      if (
        hasBranch &&
        isTerminal(checkpoint.status) &&
        checkpoint !== latestCommitted &&
        !needed.has(checkpoint.id) &&
        !awake &&
        checkpoint.deployment_id === null
      ) {
        prune.push(checkpoint);
      }
    }
  }
  return prune;
}

/**
 * Deletes, through the project's DatabaseBranches port, the branches of its checkpoints older than each task's
 * newest `keep` (see branchesToPrune for what is always kept) and records them deleted. Returns the branch row ids
 * deleted. A branch the provider refuses to delete is logged and left for the next pass.
 */
export async function pruneBranches(deps: RetentionDeps, projectId: string, keep: number): Promise<string[]> {
  const project = await getProjectById(deps.db, projectId);
  const root = dbRootOf(project);
  if (!root) return [];
  const candidates = branchesToPrune(await listCheckpointBranches(deps.db, projectId), keep);
  if (candidates.length === 0) return [];
  const providers = await deps.providersFor(project);
  const pruned = await deleteBranches(deps, providers, root, candidates);
  // The builds only pruned checkpoints named can never be served again (build-retention.ts).
  await pruneUnservableBuilds(deps.db, providers.blob, projectId);
  return pruned;
}

async function deleteBranches(
  deps: RetentionDeps,
  providers: Providers,
  root: DbRoot,
  candidates: Checkpoint[],
): Promise<string[]> {
  const pruned: string[] = [];
  for (const checkpoint of candidates) {
    if (!checkpoint.branch_id || !checkpoint.branch_external_id) continue;
    try {
      // Idempotent in every adapter: a branch already gone (a crash after the delete, before the update) is fine.
      await providers.database.deleteBranch(root, checkpoint.branch_external_id);
    } catch (error) {
      logError(`deleting database branch ${checkpoint.branch_id}`, error);
      continue;
    }
    const now = Date.now();
    // Its credentials name a database that no longer exists: nothing to keep them for.
    await updateDbBranchRow(deps.db, checkpoint.branch_id, {
      status: "deleted",
      deleted_at: now,
      connection_ciphertext: null,
      updated_at: now,
    });
    pruned.push(checkpoint.branch_id);
  }
  return pruned;
}

const PAGE_SIZE = 100;

/**
 * Retention for every project with a database, a page at a time: each keeps its own `branch_retention` or
 * `defaultKeep` (KILN_BRANCH_RETENTION). One project failing does not stop the others. Returns the branch row ids
 * deleted.
 */
export async function pruneAllProjects(deps: RetentionDeps, defaultKeep: number): Promise<string[]> {
  const pruned: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await listProjectsWithDatabase(deps.db, after, PAGE_SIZE);
    for (const project of page) {
      try {
        pruned.push(...(await pruneBranches(deps, project.id, project.branch_retention ?? defaultKeep)));
      } catch (error) {
        // Its providers may be unreachable or its credentials gone; the next pass tries again.
        logError(`branch retention of project ${project.id}`, error);
      }
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE_SIZE) return pruned;
    after = last.id;
  }
}
