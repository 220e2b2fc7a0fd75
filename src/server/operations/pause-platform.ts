import "server-only";
import { z } from "zod";
import { recordAudit } from "@/server/audit/record-audit";
import { listAllRunningRevisionIds, savePlatformPause } from "@/server/db/queries/quotas";
import { type PauseState, pausedMessage } from "@/server/governance/pause-state";
import { logError } from "@/server/http/log";
import type { Platform } from "@/server/platform/platform";
import { cancelWithReason } from "../pipeline/cancel-with-reason";
import { stopRevisionSandbox } from "../pipeline/stop-sandbox";

export const pauseInputSchema = z
  .object({
    reason: z
      .string({ error: "Say why agent work is paused" })
      .trim()
      .min(3, "Say why agent work is paused")
      .max(500, "Keep the reason to 500 characters or fewer"),
  })
  .strict();

/** Where an admin's request came from, for the audit log. */
export type ClientMeta = { ip: string | null; userAgent: string | null };

export type PauseResult = { pause: PauseState; cancelled: number };

/**
 * The kill switch. Stores the pause first (from then on every server refuses new work and the gateway refuses
 * every run, within its cache window), then cancels every running revision of every operator with the reason and
 * stops their sandboxes. A cancelled revision never commits: its runner's later reports are refused and the
 * pipeline's steps stop at the cancelled state. Carry-on and recovery cancel whatever a server that had not seen the
 * pause yet still started.
 */
export async function pausePlatform(
  platform: Platform,
  input: { reason: string; by: string | null; from?: ClientMeta },
  now = Date.now(),
): Promise<PauseResult> {
  const pause: PauseState = { reason: input.reason, pausedBy: input.by, pausedAt: now };
  await savePlatformPause(platform.db, pause);
  await recordAudit(platform.db, {
    actorId: input.by,
    action: "platform.pause",
    detail: { reason: input.reason.slice(0, 500) },
    ip: input.from?.ip,
    userAgent: input.from?.userAgent,
  });
  await platform.pause.fresh();
  const reason = pausedMessage(pause);
  const running = await listAllRunningRevisionIds(platform.db);
  let cancelled = 0;
  for (const revisionId of running) {
    if (await cancelWithReason(platform.db, revisionId, reason)) cancelled++;
  }
  // Every sandbox of what was running, also those a concurrent cancel ended: stopping is idempotent.
  const stops = await Promise.allSettled(
    running.map((revisionId) => stopRevisionSandbox(platform.runnerEventDeps(), revisionId)),
  );
  for (const stop of stops)
    if (stop.status === "rejected") logError("pause: stopping a sandbox", stop.reason);
  if (cancelled > 0) console.warn(`[kiln] paused: ${cancelled} running revision(s) cancelled.`);
  return { pause, cancelled };
}
