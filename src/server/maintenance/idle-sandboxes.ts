import type { Database } from "@/server/db/connection";
import { listRevisionsOfSandbox } from "@/server/db/queries/events";
import {
  findIdleSandboxes,
  getProjectById,
  markSandboxStopped,
  type SandboxRow,
} from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import { appendPlatformEvent } from "@/server/events/append";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { runningStatuses } from "../revisions/state-machine";

// Idle cleanup: a finished checkpoint's preview keeps a whole sandbox (dev server, node_modules, CPU quota) alive.
// Past a TTL without activity it is stopped; the checkpoint keeps its preview URL and the workspace offers to wake
// it (wake-revision.ts restarts it from the checkpoint's commit and database branch).

export type IdleSandboxDeps = { db: Database; providersFor(project: Project): Promise<Providers> };

export type SleepOptions = {
  /** How long a sandbox may go without activity (last event, update, creation) before it is stopped. */
  idleMs: number;
  now?: number;
};

function durationText(ms: number): string {
  const [count, unit] =
    ms >= 60_000 ? [Math.round(ms / 60_000), "minute"] : [Math.round(ms / 1000), "second"];
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

async function sleepOne(deps: IdleSandboxDeps, row: SandboxRow, idleMs: number, now: number) {
  const project = await getProjectById(deps.db, row.project_id);
  if (row.external_id) {
    const providers = await deps.providersFor(project);
    // Stopping is idempotent; a sandbox the provider no longer knows (expired, already stopped) is simply gone.
    await (await providers.sandboxes.get(row.external_id))?.stop();
  }
  if (!(await markSandboxStopped(deps.db, row.id, now))) return false;
  const [revision] = await listRevisionsOfSandbox(deps.db, row);
  if (revision) {
    await appendPlatformEvent(deps.db, {
      projectId: row.project_id,
      taskId: revision.task_id,
      revisionId: revision.id,
      body: {
        type: "progress",
        payload: {
          message: `The preview went to sleep after ${durationText(idleMs)} idle; wake it to continue.`,
        },
      },
      now,
    });
  }
  return true;
}

/**
 * Stops sandboxes idle for longer than `idleMs` whose revisions have ended (never a running revision's) and records
 * them stopped. Returns the sandbox row ids it stopped. One sandbox failing to stop does not keep the others awake.
 */
export async function sleepIdleSandboxes(deps: IdleSandboxDeps, options: SleepOptions): Promise<string[]> {
  const now = options.now ?? Date.now();
  const slept: string[] = [];
  for (const row of await findIdleSandboxes(deps.db, runningStatuses, now - options.idleMs)) {
    try {
      if (await sleepOne(deps, row, options.idleMs, now)) slept.push(row.id);
    } catch (error) {
      // Left as it was (not marked stopped): the next pass tries again; the others still go to sleep now.
      logError(`putting sandbox ${row.id} to sleep`, error);
    }
  }
  return slept;
}
