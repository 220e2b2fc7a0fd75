"use client";

import { BrainIcon, FilePenIcon, TerminalIcon } from "lucide-react";
import { type CurrentActivity, currentActivity } from "@/components/conversation/current-activity";
import type { CheckpointGroup } from "@/components/conversation/group-events";
import { formatDuration } from "@/components/conversation/group-events";
import { useClock } from "@/components/conversation/step-bar";

const icons = { command: TerminalIcon, file: FilePenIcon, thinking: BrainIcon } as const;

function verbOf(activity: CurrentActivity): string {
  if (activity.kind === "command") return "Running";
  if (activity.kind === "file") return "Wrote";
  return "Thinking…";
}

/** What the agent is doing now, under the step bar while it writes the code: the command, the file, the time. */
export function LiveActivity({ group }: { group: CheckpointGroup }) {
  const activity = currentActivity(group);
  const now = useClock(activity !== null);
  if (!activity) return null;
  const Icon = icons[activity.kind];
  return (
    <p
      className="mt-2 flex min-w-0 items-center gap-2 text-muted-foreground text-xs"
      data-testid="agent-activity"
    >
      <Icon className="size-3.5 shrink-0" aria-hidden />
      <span className="shrink-0">{verbOf(activity)}</span>
      {activity.kind === "thinking" ? null : (
        <code className="min-w-0 truncate rounded bg-muted px-1 py-0.5 font-mono text-foreground">
          {activity.text}
        </code>
      )}
      {now !== null ? (
        <span className="ml-auto shrink-0 tabular-nums">
          {formatDuration(Math.max(0, now - activity.since))}
        </span>
      ) : null}
    </p>
  );
}
