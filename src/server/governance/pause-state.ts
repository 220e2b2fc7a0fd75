import type { Executor } from "@/server/db/connection";
import { findPlatformPause, type PauseRow } from "@/server/db/queries/quotas";
import { AppError } from "@/server/errors";

// The kill switch's state as app servers read it. Servers share only the database, so each one reads the pause row
// through a short cache: a pause reaches every server within the cache's lifetime (5 s by default, inside the
// 10 s the kill switch promises). Work that must not start after a pause (carry-on, the gateway) can ask fresh.

export type PauseState = PauseRow;

export type PauseReader = {
  /** The pause in force, at most `ttlMs` old. */
  current(): Promise<PauseState | undefined>;
  /** The pause in force, read now (and remembered). */
  fresh(): Promise<PauseState | undefined>;
};

export const DEFAULT_PAUSE_CACHE_MS = 5_000;

export function pauseReader(db: Executor, options: { ttlMs?: number; now?: () => number } = {}): PauseReader {
  const ttlMs = options.ttlMs ?? DEFAULT_PAUSE_CACHE_MS;
  const now = options.now ?? Date.now;
  let cached: { state: PauseState | undefined; readAt: number } | undefined;
  let reading: Promise<PauseState | undefined> | undefined;
  const fresh = (): Promise<PauseState | undefined> => {
    // Concurrent requests share one read.
    reading ??= findPlatformPause(db)
      .then((state) => {
        cached = { state, readAt: now() };
        return state;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  return {
    fresh,
    async current() {
      if (cached && now() - cached.readAt < ttlMs) return cached.state;
      return fresh();
    },
  };
}

export function pausedMessage(pause: PauseState): string {
  const reason = pause.reason.trim().replace(/[.!]+$/, "");
  return `An admin paused all agent work on this Kiln: ${reason}. New work is refused until an admin resumes it.`;
}

/** Refuses new agent work with 503 `paused` and the admin's reason. */
export function assertNotPaused(pause: PauseState | undefined): void {
  if (pause) throw new AppError("paused", pausedMessage(pause));
}
