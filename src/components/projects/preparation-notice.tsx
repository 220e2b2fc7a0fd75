"use client";

import { CheckIcon, CircleAlertIcon, ClockIcon, Loader2Icon } from "lucide-react";
import { useEffect, useState } from "react";
import { preparationStatusAction } from "@/actions/preparation";
import type { PreparationItem, PreparationStatus } from "@/server/preparation/preparation-types";

// While Kiln installs what a first build needs (the template's dependencies, the agents' CLIs) at boot, or when that
// failed, the dashboard says so; once everything is ready the notice is gone. It asks again every few seconds while
// it is shown, so it follows the installs without a reload.

const POLL_MS = 3_000;

/** Shown while something is on its way or failed; "missing" alone (nobody on it, no failure) is nothing to say. */
export function preparationNoticeVisible(status: PreparationStatus): boolean {
  return status.items.some((item) => item.state !== "ready" && item.state !== "missing");
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ItemLine({ item }: { item: PreparationItem }) {
  switch (item.state) {
    case "ready":
      return (
        <li className="flex items-center gap-2 text-muted-foreground">
          <CheckIcon aria-hidden="true" className="size-4 shrink-0 text-emerald-600 dark:text-emerald-400" />
          <span>{`${sentence(item.label)}: ready`}</span>
        </li>
      );
    case "preparing":
      return (
        <li className="flex items-center gap-2">
          <Loader2Icon aria-hidden="true" className="size-4 shrink-0 animate-spin" />
          <span>{`Preparing ${item.label}…`}</span>
        </li>
      );
    case "waiting":
      return (
        <li className="flex items-center gap-2 text-muted-foreground">
          <ClockIcon aria-hidden="true" className="size-4 shrink-0" />
          <span>{`${sentence(item.label)}: next`}</span>
        </li>
      );
    case "failed":
      return (
        <li className="flex items-start gap-2">
          <CircleAlertIcon aria-hidden="true" className="mt-0.5 size-4 shrink-0 text-destructive" />
          <div className="min-w-0">
            <span className="text-destructive">
              {`Preparing ${item.label} failed; the first build that needs it tries again.`}
            </span>
            {item.error ? (
              <details className="mt-1 text-muted-foreground text-xs">
                <summary className="cursor-pointer">What went wrong</summary>
                <pre className="mt-1 max-h-48 overflow-auto whitespace-pre-wrap break-words font-mono">
                  {item.error}
                </pre>
              </details>
            ) : null}
          </div>
        </li>
      );
    case "missing":
      return (
        <li className="flex items-center gap-2 text-muted-foreground">
          <ClockIcon aria-hidden="true" className="size-4 shrink-0" />
          <span>{`${sentence(item.label)}: installed by the first build that needs it`}</span>
        </li>
      );
  }
}

export function PreparationNotice({ initial }: { initial: PreparationStatus }) {
  const [status, setStatus] = useState(initial);
  const visible = preparationNoticeVisible(status);

  useEffect(() => {
    if (!visible) return;
    let cancelled = false;
    const timer = setInterval(() => {
      void preparationStatusAction({}).then((result) => {
        if (!cancelled && result.ok) setStatus(result.data);
      });
    }, POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [visible]);

  if (!visible) return null;
  const busy = status.items.some((item) => item.state === "preparing" || item.state === "waiting");
  return (
    <section
      aria-labelledby="preparation-title"
      className="rounded-lg border bg-card px-4 py-3 text-card-foreground text-sm"
    >
      <h2 id="preparation-title" className="font-medium">
        {busy ? "Installing what builds need" : "Some of what builds need is not installed"}
      </h2>
      <p className="mt-0.5 text-muted-foreground text-xs">
        {busy
          ? "Once per install, in the background. You can create a project now: its build waits for what it uses."
          : "Check that this server reaches the npm registry."}
      </p>
      <ul role="status" className="mt-2 space-y-1">
        {status.items.map((item) => (
          <ItemLine key={item.thing} item={item} />
        ))}
      </ul>
    </section>
  );
}
