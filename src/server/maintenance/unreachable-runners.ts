import { capText } from "@/agents/event-text";
import { type RunnerStatus, runnerStatusFile, runnerStatusSchema } from "@/sandboxes/runner/runner-status";
import type { Database } from "@/server/db/connection";
import { getProjectById } from "@/server/db/queries/pipeline";
import { findUnheardRunners } from "@/server/db/queries/revisions";
import type { Project, Revision } from "@/server/db/schema";
import { appendPlatformEvent } from "@/server/events/append";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { transitionRevision } from "@/server/revisions/transition";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";

// A runner that cannot reach Kiln cannot say so with an event. It gives up after half a minute and leaves the
// cause in its working directory (src/sandboxes/runner/runner-status.ts); this job reads it from the sandbox and
// fails the revision with a reason that names the address to fix, instead of ten minutes of "Running" and a
// silence that blames a restart.

export type UnreachableRunnerDeps = { db: Database; providersFor(project: Project): Promise<Providers> };

export type UnreachableRunnerOptions = {
  /** Where sandboxes were told to reach Kiln (KILN_PUBLIC_URL): what the reason tells the operator to fix. */
  publicUrl: string;
  /** How long after its runner started a revision with no event from it is looked at. Default 30 s. */
  graceMs?: number;
  now?: number;
};

export function unreachableReason(publicUrl: string, status: RunnerStatus): string {
  return (
    `The sandbox could not reach Kiln at ${publicUrl}: ${capText(status.error, 300)}. Nothing it did could be ` +
    "reported. Set KILN_PUBLIC_URL to an address this Kiln's sandboxes can reach (for local sandboxes, where " +
    "Kiln listens on this machine, e.g. http://localhost:<port>), restart Kiln, then send the prompt again."
  );
}

/** The runner's status file, when its sandbox is still there and holds one that parses; undefined otherwise. */
async function readRunnerStatus(
  deps: UnreachableRunnerDeps,
  revision: Pick<Revision, "project_id">,
  sandboxId: string,
): Promise<RunnerStatus | undefined> {
  const providers = await deps.providersFor(await getProjectById(deps.db, revision.project_id));
  // A sandbox that is gone is the silence reconciler's to report (reconciler.ts).
  const sandbox = await providers.sandboxes.get(sandboxId);
  const bytes = await sandbox?.readFile(runnerStatusFile);
  if (!bytes) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    // Half-written by someone else (the runner renames a whole file into place): not the runner's word.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  const parsed = runnerStatusSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

async function failUnreachable(
  deps: UnreachableRunnerDeps,
  revision: Revision,
  reason: string,
  now: number,
): Promise<boolean> {
  const changed = await transitionRevision(deps.db, revision, "failed", {
    now,
    errorCode: "sandbox_unreachable",
    reason,
  });
  if (!changed) return false;
  const scope = { projectId: revision.project_id, taskId: revision.task_id, revisionId: revision.id };
  await appendPlatformEvent(deps.db, {
    ...scope,
    body: { type: "step.failed", payload: { step: "generate", reason } },
  });
  await appendPlatformEvent(deps.db, {
    ...scope,
    body: { type: "revision.status", payload: { status: "failed", reason } },
  });
  return true;
}

/**
 * Fails each revision whose runner reported, through its status file, that none of its events reached Kiln, and
 * stops its sandbox. Looks only at revisions generating for longer than `graceMs` with no event from their
 * sandbox since they started: once the runner was heard, the file is not believed. Returns the ids it failed.
 */
export async function failUnreachableRunners(
  deps: UnreachableRunnerDeps,
  options: UnreachableRunnerOptions,
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const failed: string[] = [];
  for (const candidate of await findUnheardRunners(deps.db, now - (options.graceMs ?? 30_000))) {
    const { sandbox_external_id: sandboxId, ...revision } = candidate;
    if (!sandboxId) continue;
    try {
      const status = await readRunnerStatus(deps, revision, sandboxId);
      if (!status) continue;
      if (!(await failUnreachable(deps, revision, unreachableReason(options.publicUrl, status), now)))
        continue;
      failed.push(revision.id);
      await stopRevisionSandbox(deps, revision.id);
    } catch (error) {
      // One sandbox that cannot be read (its provider down) must not keep the others from being reported.
      logError(`checking whether the runner of ${revision.id} reached Kiln`, error);
    }
  }
  return failed;
}
