"use client";

import { CheckIcon, CircleIcon, MinusIcon, XIcon } from "lucide-react";
import { useEffect, useState } from "react";
import { Spinner } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";
import {
  describeFailure,
  formatDuration,
  type StepState,
  type StepTiming,
  stepElapsedMs,
  stepLabels,
} from "./group-events";

export type StepBarProps = {
  /** One checkpoint's steps, from `groupEvents` (`CheckpointGroup.steps`). */
  steps: readonly StepTiming[];
  /**
   * The time running steps are measured to. Omitted: a clock ticking every second (live). A replay passes the
   * playhead's real time.
   */
  now?: number;
  className?: string;
};

const stateText: Record<StepState, string> = {
  pending: "Not started",
  running: "Running",
  done: "Done",
  failed: "Failed",
  skipped: "Skipped",
};

function StateIcon({ state }: { state: StepState }) {
  switch (state) {
    case "running":
      return <Spinner className="size-3.5 text-primary" label="Running" />;
    case "done":
      return <CheckIcon className="size-3.5 text-success" aria-hidden />;
    case "failed":
      return <XIcon className="size-3.5 text-destructive" aria-hidden />;
    case "skipped":
      return <MinusIcon className="size-3.5 text-muted-foreground" aria-hidden />;
    default:
      return <CircleIcon className="size-3 text-muted-foreground/60" aria-hidden />;
  }
}

/** Ticks once a second while something runs and no fixed time is given; null until mounted (no SSR mismatch). */
function useClock(active: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/**
 * A checkpoint's pipeline steps (plan → deploy) with their state and elapsed time, and the failing step's reason
 * in plain words.
 */
export function StepBar({ steps, now, className }: StepBarProps) {
  const running = steps.some((step) => step.state === "running");
  const clock = useClock(now === undefined && running);
  const at = now ?? clock;
  const failed = steps.findLast((step) => step.state === "failed");
  return (
    <div className={cn("grid gap-2", className)}>
      <ol aria-label="Steps" className="grid grid-cols-4 gap-1 sm:grid-cols-8">
        {steps.map((step) => {
          const elapsed = at === null && step.state === "running" ? null : stepElapsedMs(step, at ?? 0);
          return (
            <li
              key={step.step}
              data-state={step.state}
              className={cn(
                "flex min-w-0 flex-col gap-0.5 rounded-md border px-2 py-1.5 text-xs",
                step.state === "running" && "border-primary/50 bg-primary/5",
                step.state === "failed" && "border-destructive/50 bg-destructive/5",
                step.state === "skipped" && "opacity-60",
                step.state === "pending" && "text-muted-foreground",
              )}
            >
              <span className="flex items-center gap-1.5 font-medium">
                <StateIcon state={step.state} />
                <span className="truncate">{stepLabels[step.step]}</span>
              </span>
              <span className="truncate text-muted-foreground tabular-nums">
                <span className="sr-only">{stateText[step.state]}</span>
                {elapsed !== null && step.state !== "skipped" ? (
                  <span>{formatDuration(elapsed)}</span>
                ) : (
                  <span aria-hidden>{step.state === "skipped" ? "skipped" : "—"}</span>
                )}
                {step.attempt > 1 ? <span> · try {step.attempt}</span> : null}
              </span>
            </li>
          );
        })}
      </ol>
      {failed?.reason ? (
        <p className="text-destructive text-sm" role="status">
          {describeFailure(failed.step, failed.reason)}
        </p>
      ) : null}
    </div>
  );
}
