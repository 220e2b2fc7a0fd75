// Pure: the replay's clock. Each event sits at its real distance from the one before, with long gaps (an agent
// thinking for minutes, a build) shortened, so a replay keeps the session's rhythm without its waiting.

/** The longest pause between two events on the replay clock. */
export const MAX_REPLAY_GAP_MS = 2_000;

export type ReplayTimeline = {
  /** Replay time (ms from the first event) of each event, non-decreasing. */
  times: number[];
  /** Replay time of the last event. */
  duration: number;
  /** Where each checkpoint starts: its first event. */
  markers: Array<{ checkpoint: number; time: number; index: number }>;
};

export function buildTimeline(
  events: ReadonlyArray<{ at: number; checkpoint: number | null }>,
  maxGapMs = MAX_REPLAY_GAP_MS,
): ReplayTimeline {
  const times: number[] = new Array(events.length);
  const markers: ReplayTimeline["markers"] = [];
  const seen = new Set<number>();
  let time = 0;
  let previousAt: number | null = null;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (!event) continue;
    // Arrival order is not always time order (runner batches land after platform events): never go backwards.
    if (previousAt !== null) time += Math.min(maxGapMs, Math.max(0, event.at - previousAt));
    previousAt = previousAt === null ? event.at : Math.max(previousAt, event.at);
    times[i] = time;
    if (event.checkpoint !== null && !seen.has(event.checkpoint)) {
      seen.add(event.checkpoint);
      markers.push({ checkpoint: event.checkpoint, time, index: i });
    }
  }
  return { times, duration: time, markers };
}

/** How many events have happened by replay time `time` (binary search; `times` is non-decreasing). */
export function eventsAtTime(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] ?? 0) <= time) low = mid + 1;
    else high = mid;
  }
  return low;
}
