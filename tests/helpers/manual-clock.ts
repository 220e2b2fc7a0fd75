import type { Clock } from "../../src/sandboxes/runner/poster";

export type ManualClock = Clock & {
  /** Moves time forward by `ms`, running each timer that falls due on the way in time order (timers they set too). */
  advance(ms: number): void;
  /** How far off each pending timer is, soonest first. */
  pending(): number[];
};

type Timer = { at: number; order: number; task: () => void };

/**
 * A clock that moves only when the test says, so "after the interval", "every 40 ms" and "waited 1 s" are exact
 * instead of races against a loaded machine. With `autoAdvance`, each timer fires on the next turn of the event
 * loop with time jumping to it: backoff waits take no real time and the clock shows exactly how long was waited.
 */
export function manualClock(options: { start?: number; autoAdvance?: boolean } = {}): ManualClock {
  // Starts at the real time: webhook signatures carry it and the receiver refuses stale ones.
  let now = options.start ?? Date.now();
  let created = 0;
  const timers: Timer[] = [];

  const runDue = (until: number) => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = Math.max(now, next.at);
      next.task();
    }
    now = Math.max(now, until);
  };

  return {
    now: () => now,
    setTimer(task, ms) {
      const timer: Timer = { at: now + Math.max(0, ms), order: created++, task };
      timers.push(timer);
      if (options.autoAdvance) {
        setImmediate(() => {
          if (timers.includes(timer)) runDue(timer.at);
        });
      }
      return () => {
        const index = timers.indexOf(timer);
        if (index >= 0) timers.splice(index, 1);
      };
    },
    advance(ms) {
      runDue(now + ms);
    },
    pending: () => timers.map((timer) => timer.at - now).sort((a, b) => a - b),
  };
}
