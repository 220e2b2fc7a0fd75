"use client";

import { CheckIcon, CircleIcon, Loader2Icon, MinusIcon, XIcon } from "lucide-react";
import { useEffect, useState } from "react";
import { cn } from "@/lib/utils";
import { formatDuration, type StepState, type StepTiming, stepElapsedMs, stepLabels } from "./group-events";

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
  cancelled: "Cancelled",
};

function StateIcon({ state }: { state: StepState }) {
  switch (state) {
    case "running":
      return <Loader2Icon className="size-3.5 shrink-0 animate-spin text-primary" aria-hidden />;
    case "done":
      return <CheckIcon className="size-3.5 shrink-0 text-success" aria-hidden />;
    case "failed":
      return <XIcon className="size-3.5 shrink-0 text-destructive" aria-hidden />;
    case "skipped":
    case "cancelled":
      return <MinusIcon className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />;
    default:
      return <CircleIcon className="size-3 shrink-0 text-muted-foreground/60" aria-hidden />;
  }
}

/** Ticks once a second while something runs and no fixed time is given; null until mounted (no SSR mismatch). */
export function useClock(active: boolean): number | null {
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
 * A checkpoint's pipeline steps (plan → deploy) with their state and elapsed time. A failure's reason is not
 * repeated here: the conversation beside it says it once, in plain words.
 */
export function StepBar({ steps, now, className }: StepBarProps) {
  const running = steps.some((step) => step.state === "running");
  const clock = useClock(now === undefined && running);
  const at = now ?? clock;
  return (
    <div className={cn("@container grid grid-cols-1 gap-2", className)}>
      <ol aria-label="Steps" className="grid grid-cols-4 gap-1 @xl:grid-cols-8">
        {steps.map((step) => {
          const elapsed = at === null && step.state === "running" ? null : stepElapsedMs(step, at ?? 0);
          return (
            <li
              key={step.step}
              data-state={step.state}
              className={cn(
                "flex min-w-0 flex-col gap-0.5 rounded-md border px-1.5 py-1 text-xs",
                step.state === "running" && "border-primary/50 bg-primary/5",
                step.state === "failed" && "border-destructive/50 bg-destructive/5",
                (step.state === "skipped" || step.state === "cancelled") && "opacity-60",
                step.state === "pending" && "text-muted-foreground",
              )}
            >
              <span className="truncate font-medium">{stepLabels[step.step]}</span>
              <span className="flex min-w-0 items-center gap-1 text-muted-foreground tabular-nums">
                <StateIcon state={step.state} />
                <span className="sr-only">{stateText[step.state]}</span>
                <span className="truncate">
                  {step.state === "cancelled" ? (
                    <span aria-hidden>cancelled</span>
                  ) : elapsed !== null && step.state !== "skipped" ? (
                    formatDuration(elapsed)
                  ) : (
                    <span aria-hidden>{step.state === "skipped" ? "skipped" : "—"}</span>
                  )}
                  {step.attempt > 1 ? ` · try ${step.attempt}` : null}
                </span>
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
