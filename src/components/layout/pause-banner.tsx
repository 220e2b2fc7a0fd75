import { OctagonPauseIcon } from "lucide-react";
import type { PauseDto } from "@/server/governance/pause-dto";

/** Shown on every dashboard page while an admin has paused all agent work (the kill switch). */
export function PauseBanner({ pause }: { pause: PauseDto }) {
  if (!pause.paused) return null;
  return (
    <div
      role="status"
      data-testid="pause-banner"
      className="border-amber-500/40 border-b bg-amber-100 text-amber-950 dark:bg-amber-950 dark:text-amber-100"
    >
      <div className="mx-auto flex max-w-6xl items-start gap-2 px-4 py-2 text-sm">
        <OctagonPauseIcon className="mt-0.5 size-4 shrink-0" aria-hidden />
        <p>
          <strong>Agent work is paused.</strong> An admin stopped every build on this Kiln:{" "}
          {pause.reason.trim().replace(/[.!]+$/, "")}. New builds are refused until it is resumed.
        </p>
      </div>
    </div>
  );
}
