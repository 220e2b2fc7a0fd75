import type { ActivityItem, CheckpointGroup } from "./group-events";

// Pure: what the agent is doing right now in a running checkpoint, for the line under its step bar. Unit-tested in
// tests/unit/current-activity.test.ts.

export type CurrentActivity =
  | { kind: "command"; text: string; since: number }
  | { kind: "file"; text: string; since: number }
  | { kind: "thinking"; since: number };

function lastPath(item: Extract<ActivityItem, { kind: "file_change" }>): string | null {
  return item.changes.at(-1)?.path ?? null;
}

/**
 * What the newest item of the running generate step says: a command still running, else the file the agent just
 * wrote, else that it is thinking (a message, a finished command, nothing yet). Null when the step that runs is
 * not the agent's (the step bar says which) or the checkpoint ended.
 */
export function currentActivity(group: CheckpointGroup): CurrentActivity | null {
  const generate = group.steps.find((step) => step.step === "generate");
  if (generate?.state !== "running" || generate.activeSince === null) return null;
  const newest = group.items.at(-1);
  if (newest && newest.at >= generate.activeSince) {
    if (newest.kind === "command" && newest.status === "running") {
      return { kind: "command", text: newest.command, since: newest.at };
    }
    if (newest.kind === "file_change") {
      const path = lastPath(newest);
      if (path) return { kind: "file", text: path, since: newest.at };
    }
  }
  return { kind: "thinking", since: generate.activeSince };
}
