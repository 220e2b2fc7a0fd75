import "server-only";
import type { Executor } from "@/server/db/connection";
import { assertWithinQuota } from "@/server/governance/assert-within-quota";
import { assertNotPaused } from "@/server/governance/pause-state";
import type { Platform } from "@/server/platform/platform";

/**
 * New agent work (a project, a follow-up, a restore, a task) starts only while the platform is not paused, and is
 * recorded within the operator's quotas: the check returned runs in the transaction that records the work, so
 * concurrent requests are counted one after the other.
 */
export async function admitAgentWork(
  platform: Platform,
  userId: string,
): Promise<(tx: Executor, now: number) => Promise<void>> {
  assertNotPaused(await platform.pause.current());
  return (tx, now) => assertWithinQuota(tx, platform.quotas, userId, now);
}
