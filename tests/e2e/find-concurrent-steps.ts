// "No step runs twice at once", read off a task's event log (the durability spec's check, tests/unit has its own).
//
// A step execution runs from the event that starts it to the event that ends it. There are two tracks:
// - platform steps: `step.started {step}` until `step.finished` or `step.failed` of that step. A step the platform
//   hands to the runner (generate: the platform starts the runner, the runner reports the end) also ends with the
//   runner's end of it: `runner.step {step, status: finished|failed}` or `runner.failed {step}`.
// - runner steps: `runner.step {step, status: started, attempt}` until `runner.step {step, finished|failed}` of the
//   same attempt, or `runner.failed {step}` (an attempt is a pass of the runner's fix loop: verify fails, the agent
//   runs again as generate #2; those are different executions, not the same one twice).
// A terminal `revision.status` (finished, failed, cancelled) ends every step of its revision.
//
// Running "twice at once" is a second start of the same step (same revision, same track, same attempt) while an
// earlier start of it has not ended. One exception makes a crash legal: the earlier start happened before a server
// died and the new one after it. What ran on the dead server never reports an end (its sandbox died with it); a
// survivor carrying the revision on starts the step again, and that is the behaviour we want, not a double run.
// (The log does not say which server wrote an event, so a start before the death counts as the dead server's.)

export type StepEvent = {
  cursor: number;
  /** When the event happened (the platform's clock, or the runner's: one machine, one clock). */
  at: number;
  type: string;
  revisionId: string | null;
  payload: Record<string, unknown>;
};

type Start = { key: string; event: StepEvent };

const terminalStatuses = new Set(["finished", "failed", "cancelled"]);

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** What the event starts, as an execution key, or undefined. */
function startKey(event: StepEvent): string | undefined {
  const step = text(event.payload.step);
  if (!step) return undefined;
  if (event.type === "step.started") return `platform ${event.revisionId} ${step}`;
  if (event.type === "runner.step" && event.payload.status === "started")
    return `runner ${event.revisionId} ${step} #${String(event.payload.attempt ?? 1)}`;
  return undefined;
}

/** Which open executions the event ends. */
function ends(event: StepEvent, open: Start): boolean {
  const [track, revisionId, step, attempt] = open.key.split(" ");
  if (event.revisionId !== revisionId) return false;
  if (event.type === "revision.status") return terminalStatuses.has(text(event.payload.status) ?? "");
  if (text(event.payload.step) !== step) return false;
  if (event.type === "runner.failed") return true;
  const runnerEnd =
    event.type === "runner.step" &&
    (event.payload.status === "finished" || event.payload.status === "failed");
  if (track === "platform")
    return event.type === "step.finished" || event.type === "step.failed" || runnerEnd;
  return runnerEnd && `#${String(event.payload.attempt ?? 1)}` === attempt;
}

function describeEvent(event: StepEvent): string {
  const { step, status, attempt } = event.payload;
  const parts = [event.type, step, status, attempt === undefined ? undefined : `#${attempt}`];
  return `#${event.cursor} ${parts.filter((part) => part !== undefined).join(" ")} at ${new Date(event.at).toISOString()}`;
}

/**
 * Every second start of a step while an earlier start of it was still running (see the top of this file), as
 * readable lines; empty when there is none. `deaths` are the times servers were killed.
 */
export function findConcurrentSteps(events: StepEvent[], deaths: number[]): string[] {
  const open: Start[] = [];
  const problems: string[] = [];
  for (const event of [...events].sort((a, b) => a.cursor - b.cursor)) {
    for (let i = open.length - 1; i >= 0; i--) {
      const start = open[i];
      if (start && ends(event, start)) open.splice(i, 1);
    }
    const key = startKey(event);
    if (!key) continue;
    const earlier = open.findIndex((start) => start.key === key);
    const previous = open[earlier];
    if (previous) {
      const diedBetween = deaths.some((death) => previous.event.at <= death && death <= event.at);
      if (!diedBetween)
        problems.push(
          `${describeEvent(event)} while ${describeEvent(previous.event)} had not ended (${key})`,
        );
      open.splice(earlier, 1);
    }
    open.push({ key, event });
  }
  return problems;
}

/** The events that start `step` (on either track) after `time`: a step done before then must not run again. */
export function stepStartsAfter(events: StepEvent[], step: string, time: number): StepEvent[] {
  return events.filter((event) => event.at > time && startKey(event)?.split(" ")[2] === step);
}
