import fs from "node:fs/promises";
import path from "node:path";
import type { EventPoster } from "./poster";
import { type RunnerStatus, runnerStatusFile } from "./runner-status";

/**
 * A run whose events cannot reach the platform is lost whatever the agent does: its commit and preview are only
 * ever announced as events. Rather than work for nothing and leave the platform to guess from silence, the runner
 * gives up early and says why in a file the platform reads from the sandbox (runner-status.ts).
 */

const defaultReachMs = 30_000;
/** How often to look again while the first request is still waiting for an answer. */
const recheckMs = 2_000;

export function reachPlatformMs(limits: { reachPlatformMs?: number }): number {
  return limits.reachPlatformMs ?? defaultReachMs;
}

/**
 * Calls `giveUp` (once) when, `afterMs` after the start, no event was delivered and a delivery attempt failed.
 * A request still waiting for its first answer, or one the server accepted but did not answer in time (`next dev`
 * compiling the webhook route on first use, say), is not a refusal: that is waited for, up to four times as long.
 * Returns a function that stops watching.
 */
export function watchPlatformReach(
  poster: EventPoster,
  afterMs: number,
  giveUp: (error: string) => void,
): () => void {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    timer = undefined;
    if (poster.stats.sent > 0) return;
    const failure = poster.lastFailure;
    if (!failure || (failure.timedOut && Date.now() - started < afterMs * 4)) {
      timer = setTimeout(check, recheckMs);
      return;
    }
    giveUp(failure.why);
  };
  timer = setTimeout(check, afterMs);
  return () => clearTimeout(timer);
}

/** Removes a status file an earlier run in this sandbox left: the platform must not read it as this run's. */
export async function clearRunnerStatus(workdir: string): Promise<void> {
  await fs.rm(path.join(workdir, runnerStatusFile), { force: true });
}

export async function writeRunnerStatus(workdir: string, status: RunnerStatus): Promise<void> {
  const file = path.join(workdir, runnerStatusFile);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Written whole then renamed: the platform never reads half of it.
  await fs.writeFile(`${file}.tmp`, JSON.stringify(status));
  await fs.rename(`${file}.tmp`, file);
}
