import type { PublicEvent } from "@/server/events/public-event";
import type { StoredEvent } from "@/server/events/schema";
import {
  isTerminal,
  type RevisionStatus,
  type RunningStatus,
  runningStatuses,
  type StepName,
  stepNames,
  stepOfStatus,
} from "@/server/revisions/state-machine";

// Pure: a session's events (cursor order) → one group per checkpoint with its conversation items and step timings.
// Shared by the public replay and the operator workspace; unit-tested in tests/unit/group-events.test.ts.

/**
 * What the session components render: an event with its checkpoint ordinal. The public stream sends exactly this
 * (`PublicEvent`); the operator's `StoredEvent`s become it with `withCheckpoints`.
 */
export type SessionEvent = PublicEvent;

export type StepState = "pending" | "running" | "done" | "failed" | "skipped" | "cancelled";

export type StepTiming = {
  step: StepName;
  state: StepState;
  /** When it first started (null: never, or only known to have finished). */
  startedAt: number | null;
  /** When the current attempt started, while running. */
  activeSince: number | null;
  finishedAt: number | null;
  /** Time spent in finished attempts; add `now - activeSince` while running. */
  durationMs: number;
  attempt: number;
  /** Why it failed (or was cancelled). */
  reason: string | null;
};

type ItemBase = {
  key: string;
  at: number;
  cursor: number /** Cursor of the event that last changed it. */;
  rev: number;
};

export type ActivityItem = ItemBase &
  (
    | { kind: "plan"; title: string; steps: string[]; prompt: string }
    | { kind: "message"; text: string }
    | { kind: "reasoning"; text: string }
    | {
        kind: "command";
        command: string;
        output: string;
        exitCode: number | null;
        status: "running" | "completed" | "failed";
      }
    | { kind: "file_change"; changes: Array<{ path: string; kind: "add" | "update" | "delete" }> }
    | { kind: "todo"; items: Array<{ text: string; done: boolean }> }
    | { kind: "output"; step: StepName; stream: "stdout" | "stderr"; text: string }
    | { kind: "progress"; message: string }
    | { kind: "failure"; step: StepName | null; reason: string }
    | { kind: "agent_error"; message: string }
    | { kind: "ended"; status: "finished" | "failed" | "cancelled"; reason: string | null }
  );

export type ActivityKind = ActivityItem["kind"];

/** Items that are the agent's (or a step's) tool activity, shown collapsed. */
export const toolKinds: ReadonlySet<ActivityKind> = new Set([
  "reasoning",
  "command",
  "file_change",
  "todo",
  "output",
]);

export type CheckpointGroup = {
  checkpoint: number | null;
  /** The latest `revision.status` seen. */
  status: RevisionStatus | null;
  /** Why it failed or was cancelled. */
  reason: string | null;
  startedAt: number;
  endedAt: number;
  firstCursor: number;
  lastCursor: number;
  eventCount: number;
  steps: StepTiming[];
  items: ActivityItem[];
  usage: { inputTokens: number; outputTokens: number; cachedTokens: number };
};

/** The running status of each step (the inverse of `stepOfStatus`). */
const statusOfStep = Object.fromEntries(
  runningStatuses.flatMap((status) => {
    const step = stepOfStatus[status];
    return step ? [[step, status]] : [];
  }),
) as Record<StepName, RunningStatus>;

/** Short names for the step bar. */
export const stepLabels: Record<StepName, string> = {
  plan: "Plan",
  provision: "Provision",
  generate: "Generate",
  migrate: "Migrate",
  verify: "Verify",
  commit: "Commit",
  preview: "Preview",
  deploy: "Deploy",
};

/** What a failed step was doing, for "… failed: reason". */
export const stepActivities: Record<StepName, string> = {
  plan: "Planning the app",
  provision: "Setting up the repository, database and sandbox",
  generate: "Writing the code",
  migrate: "Migrating the database",
  verify: "Building the app",
  commit: "Committing the code",
  preview: "Starting the preview",
  deploy: "Deploying",
};

/** "Building the app failed: npm run build failed (exit code 1) …" */
export function describeFailure(step: StepName | null, reason: string): string {
  return step ? `${stepActivities[step]} failed: ${reason}` : reason;
}

/** Merged step output kept per item: the newest characters (where a failure's message is). */
const MAX_MERGED_OUTPUT = 16_000;

type GroupState = {
  group: CheckpointGroup;
  steps: Map<StepName, StepTiming>;
  itemIndex: Map<string, number>;
  lastFailure: string | null;
};

function newGroup(checkpoint: number | null, event: SessionEvent): GroupState {
  const steps = new Map<StepName, StepTiming>(
    stepNames.map((step) => [
      step,
      {
        step,
        state: "pending",
        startedAt: null,
        activeSince: null,
        finishedAt: null,
        durationMs: 0,
        attempt: 0,
        reason: null,
      },
    ]),
  );
  return {
    group: {
      checkpoint,
      status: null,
      reason: null,
      startedAt: event.at,
      endedAt: event.at,
      firstCursor: event.cursor,
      lastCursor: event.cursor,
      eventCount: 0,
      steps: [...steps.values()],
      items: [],
      usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 },
    },
    steps,
    itemIndex: new Map(),
    lastFailure: null,
  };
}

function startStep(state: GroupState, step: StepName, at: number, attempt = 1) {
  const timing = state.steps.get(step);
  if (!timing) return;
  const order = stepNames.indexOf(step);
  for (const other of state.group.steps) {
    const otherOrder = stepNames.indexOf(other.step);
    // Steps before it that never ran were skipped (a follow-up has no plan; a restore runs no agent).
    if (otherOrder < order && other.state === "pending") other.state = "skipped";
    // Steps after it that failed are about to be retried (the agent fixes a failed build, then it runs again).
    if (otherOrder > order && other.state === "failed") {
      other.state = "pending";
      other.reason = null;
      other.finishedAt = null;
    }
  }
  timing.attempt = Math.max(timing.attempt + (timing.state === "running" ? 0 : 1), attempt);
  if (timing.state === "running") return;
  timing.state = "running";
  timing.startedAt ??= at;
  timing.activeSince = at;
  timing.finishedAt = null;
  timing.reason = null;
}

function endStep(
  state: GroupState,
  step: StepName,
  at: number,
  outcome: "done" | "failed" | "skipped" | "cancelled",
  details: { durationMs?: number; reason?: string | null } = {},
) {
  const timing = state.steps.get(step);
  if (!timing) return;
  if (timing.state === "running" && timing.activeSince !== null) {
    timing.durationMs += details.durationMs ?? Math.max(0, at - timing.activeSince);
  } else if (timing.state === "pending" && details.durationMs !== undefined) {
    timing.durationMs += details.durationMs;
    timing.startedAt ??= at - details.durationMs;
  }
  timing.state = outcome;
  timing.activeSince = null;
  timing.finishedAt = at;
  if (details.reason !== undefined) timing.reason = details.reason;
}

function pushItem(state: GroupState, item: ActivityItem, itemKey?: string) {
  if (itemKey !== undefined) {
    const index = state.itemIndex.get(itemKey);
    if (index !== undefined) {
      // The same agent item again (a command that finished, a todo list ticked off): update it in place.
      const previous = state.group.items[index];
      state.group.items[index] = previous
        ? { ...item, key: previous.key, at: previous.at, cursor: previous.cursor }
        : item;
      return;
    }
    state.itemIndex.set(itemKey, state.group.items.length);
  }
  state.group.items.push(item);
}

function pushFailure(state: GroupState, base: ItemBase, step: StepName | null, reason: string) {
  // One failure is reported by several events (the runner's step, its run, the platform's step and status).
  const signature = `${step ?? ""}\n${reason}`;
  if (state.lastFailure === signature) return;
  state.lastFailure = signature;
  state.group.items.push({ ...base, kind: "failure", step, reason });
}

/** Events that move a step. Once the checkpoint has ended they change nothing (see `apply`). */
const stepEventTypes: ReadonlySet<SessionEvent["type"]> = new Set([
  "step.started",
  "step.finished",
  "step.failed",
  "runner.step",
  "runner.failed",
]);

function apply(state: GroupState, event: SessionEvent) {
  const group = state.group;
  group.eventCount++;
  group.endedAt = Math.max(group.endedAt, event.at);
  group.lastCursor = event.cursor;
  // An ended checkpoint stays ended: a cancelled run's step may still report finishing the work it was doing.
  if (group.status !== null && isTerminal(group.status) && stepEventTypes.has(event.type)) return;
  const base: ItemBase = { key: `e${event.cursor}`, at: event.at, cursor: event.cursor, rev: event.cursor };
  switch (event.type) {
    case "revision.status": {
      const { status, reason } = event.payload;
      group.status = status;
      if (isTerminal(status)) {
        group.reason = reason ?? null;
        for (const timing of group.steps) {
          if (timing.state === "running") {
            const outcome = status === "finished" ? "done" : status === "failed" ? "failed" : "cancelled";
            endStep(state, timing.step, event.at, outcome, {
              reason: status === "finished" ? null : (reason ?? timing.reason),
            });
          } else if (timing.state === "pending") {
            timing.state = "skipped";
          }
        }
        const repeated = status === "failed" && reason && state.lastFailure?.endsWith(`\n${reason}`);
        if (!repeated) group.items.push({ ...base, kind: "ended", status, reason: reason ?? null });
      } else {
        // A status opens a step that has not run yet; it never re-opens one: the platform may record "committing"
        // after the runner's own commit step already finished, and retries come as runner steps with an attempt.
        const step = stepOfStatus[status];
        if (step && state.steps.get(step)?.state === "pending") startStep(state, step, event.at);
      }
      return;
    }
    case "step.started":
      return startStep(state, event.payload.step, event.at);
    case "step.finished":
      return endStep(state, event.payload.step, event.at, "done", { durationMs: event.payload.durationMs });
    case "step.failed":
      endStep(state, event.payload.step, event.at, "failed", { reason: event.payload.reason });
      return pushFailure(state, base, event.payload.step, event.payload.reason);
    case "runner.step": {
      const { step, status, attempt, reason } = event.payload;
      if (status === "started") return startStep(state, step, event.at, attempt);
      if (status === "finished") return endStep(state, step, event.at, "done");
      endStep(state, step, event.at, "failed", { reason: reason ?? null });
      if (reason) pushFailure(state, base, step, reason);
      return;
    }
    case "runner.failed":
      endStep(state, event.payload.step, event.at, "failed", { reason: event.payload.reason });
      return pushFailure(state, base, event.payload.step, event.payload.reason);
    case "plan":
      return pushItem(state, { ...base, kind: "plan", ...event.payload });
    case "progress":
      return pushItem(state, { ...base, kind: "progress", message: event.payload.message });
    case "agent.message":
      return pushItem(
        state,
        { ...base, kind: "message", text: event.payload.text },
        `message:${event.payload.itemId}`,
      );
    case "agent.reasoning":
      return pushItem(
        state,
        { ...base, kind: "reasoning", text: event.payload.text },
        `reasoning:${event.payload.itemId}`,
      );
    case "agent.command": {
      const { command, output, exitCode, status } = event.payload;
      return pushItem(
        state,
        { ...base, kind: "command", command, output, exitCode, status },
        `command:${event.payload.itemId}`,
      );
    }
    case "agent.file_change":
      return pushItem(
        state,
        { ...base, kind: "file_change", changes: event.payload.changes },
        `file_change:${event.payload.itemId}`,
      );
    case "agent.todo":
      return pushItem(
        state,
        { ...base, kind: "todo", items: event.payload.items },
        `todo:${event.payload.itemId}`,
      );
    case "agent.usage":
      group.usage.inputTokens += event.payload.inputTokens;
      group.usage.outputTokens += event.payload.outputTokens;
      group.usage.cachedTokens += event.payload.cachedTokens;
      return;
    case "agent.error":
      return pushItem(state, { ...base, kind: "agent_error", message: event.payload.message });
    case "runner.output": {
      const { step, stream, text } = event.payload;
      const last = group.items.at(-1);
      if (last?.kind === "output" && last.step === step && last.stream === stream) {
        // Consecutive chunks of one step's stream read as one log.
        const merged = last.text + text;
        group.items[group.items.length - 1] = {
          ...last,
          text: merged.length > MAX_MERGED_OUTPUT ? merged.slice(-MAX_MERGED_OUTPUT) : merged,
          rev: event.cursor,
        };
        return;
      }
      return pushItem(state, { ...base, kind: "output", step, stream, text });
    }
    case "runner.committed":
    case "runner.preview":
    case "runner.finished":
    case "runner.heartbeat":
    case "agent.session":
      // Shown through their effects (the status, the checkpoint's commit and preview), not as items.
      return;
  }
}

/**
 * Groups the first `count` events (default: all) by checkpoint, in checkpoint order (events without one first).
 * Events are taken in the order given, which should be cursor order.
 */
export function groupEvents(events: readonly SessionEvent[], count = events.length): CheckpointGroup[] {
  const states = new Map<number | null, GroupState>();
  const end = Math.min(count, events.length);
  for (let i = 0; i < end; i++) {
    const event = events[i];
    if (!event) continue;
    let state = states.get(event.checkpoint);
    if (!state) {
      state = newGroup(event.checkpoint, event);
      states.set(event.checkpoint, state);
    }
    apply(state, event);
  }
  return [...states.values()]
    .map((state) => withoutRepeatedAgentErrors(state.group))
    .sort((a, b) => (a.checkpoint ?? 0) - (b.checkpoint ?? 0));
}

/**
 * The agent's fatal error comes back as the reason of the step it failed ("the agent failed (exit code 1): <its
 * error>"): the failure then says it, and the agent's own report of it is dropped, so a failure reads once.
 */
function withoutRepeatedAgentErrors(group: CheckpointGroup): CheckpointGroup {
  const reasons = group.items.flatMap((item) =>
    item.kind === "failure" || item.kind === "ended" ? [{ cursor: item.cursor, reason: item.reason }] : [],
  );
  if (reasons.length === 0) return group;
  const repeated = (item: ActivityItem) =>
    item.kind === "agent_error" &&
    item.message.trim() !== "" &&
    reasons.some(({ cursor, reason }) => cursor > item.cursor && reason?.includes(item.message.trim()));
  return group.items.some(repeated)
    ? { ...group, items: group.items.filter((item) => !repeated(item)) }
    : group;
}

/**
 * The checkpoint's status as its events tell it, for every header that names it: the step running now when the
 * platform has not recorded entering it yet (the sandbox's runner reports its steps before the platform applies
 * them), so a header and the step bar never disagree.
 */
export function checkpointStatus(group: CheckpointGroup): RevisionStatus | null {
  if (group.status !== null && isTerminal(group.status)) return group.status;
  const running = group.steps.findLast((timing) => timing.state === "running");
  const status = running ? statusOfStep[running.step] : null;
  if (!status) return group.status;
  const recorded = group.status ? runningStatuses.indexOf(group.status as RunningStatus) : -1;
  return runningStatuses.indexOf(status) > recorded ? status : group.status;
}

/** How long a step has run: finished attempts plus the current one up to `now`. */
export function stepElapsedMs(timing: StepTiming, now: number): number | null {
  if (timing.state === "running" && timing.activeSince !== null) {
    return timing.durationMs + Math.max(0, now - timing.activeSince);
  }
  return timing.startedAt === null && timing.durationMs === 0 ? null : timing.durationMs;
}

/** The step whose failure ended the checkpoint (or the last failed one), with its reason. */
export function failingStep(group: CheckpointGroup): StepTiming | undefined {
  return group.steps.findLast((timing) => timing.state === "failed");
}

/** Operator events (`StoredEvent`s, with a revision id) as session events, given the task's revision ordinals. */
export function withCheckpoints(
  events: readonly StoredEvent[],
  ordinalOf: ReadonlyMap<string, number>,
): SessionEvent[] {
  return events.map(
    (event) =>
      ({
        type: event.type,
        payload: event.payload,
        cursor: event.cursor,
        seq: event.seq,
        at: event.at,
        checkpoint: event.revisionId === null ? null : (ordinalOf.get(event.revisionId) ?? null),
      }) as SessionEvent,
  );
}

/** "850 ms", "12 s", "3 min 4 s", "1 h 2 min". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}
