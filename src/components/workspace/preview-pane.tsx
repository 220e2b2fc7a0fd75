"use client";

import {
  ExternalLinkIcon,
  Loader2Icon,
  MonitorIcon,
  MoonIcon,
  RotateCwIcon,
  SmartphoneIcon,
  TabletIcon,
} from "lucide-react";
import { useState, useTransition } from "react";
import { toast } from "sonner";
import { wakePreviewAction } from "@/actions/revisions";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";
import type { RevisionDto } from "@/server/revisions/revision-types";
import type { PreviewNotice } from "./preview-choice";

const widths = [
  { name: "Desktop", width: null, icon: MonitorIcon },
  { name: "Tablet", width: 768, icon: TabletIcon },
  { name: "Phone", width: 390, icon: SmartphoneIcon },
] as const;

type Width = (typeof widths)[number]["name"];

/**
 * The checkpoint is previewed before it is verified (the dev server serves the agent's work while the build checks
 * it): what is still going on behind a preview that already shows. Finished checkpoints need no notice.
 */
const previewedWhile: Record<string, string> = {
  previewing: "Preview ready, verifying…",
  verifying: "Preview ready, verifying…",
  committing: "Preview ready, committing…",
  deploying: "Preview ready, deploying…",
};

const buildingLabel: Record<string, string> = {
  queued: "queued",
  planning: "planning",
  provisioning: "setting up",
  generating: "the agent is writing the code",
  migrating: "migrating the database",
};

/** What the notice over (or above) the last good version says. */
function noticeText(notice: PreviewNotice, shownOrdinal: number): string {
  if (notice.kind === "building") {
    const doing = buildingLabel[notice.status] ?? notice.status;
    return `Building checkpoint ${notice.ordinal}: ${doing}… Checkpoint ${shownOrdinal} stays up until it is ready.`;
  }
  return `Checkpoint ${notice.ordinal} ${notice.status === "failed" ? "failed" : "was cancelled"}: showing checkpoint ${shownOrdinal}, the last good version.`;
}

/**
 * The checkpoint's running app in a frame; its screenshot with a wake button while the sandbox sleeps. With a
 * notice, the frame is the last good version standing in for a newer checkpoint (building, failed or cancelled).
 */
export function PreviewPane({
  revision,
  notice = null,
}: {
  revision: RevisionDto | null;
  notice?: PreviewNotice | null;
}) {
  const [width, setWidth] = useState<Width>("Desktop");
  const [reloads, setReloads] = useState(0);
  const [waking, startWaking] = useTransition();
  const url = revision?.previewUrl ?? null;
  const asleep = revision?.previewAsleep ?? false;
  const frameWidth = widths.find((w) => w.name === width)?.width ?? null;

  function wake() {
    if (!revision) return;
    startWaking(async () => {
      const result = await wakePreviewAction({ revisionId: revision.id });
      if (result.ok) toast.success("Waking the preview…");
      else toast.error(result.error.message);
    });
  }

  if (!revision || (!url && !revision.screenshotUrl)) {
    return (
      <div className="flex min-h-64 flex-1 items-center justify-center rounded-lg border border-dashed p-6 text-center text-muted-foreground text-sm">
        {revision && !["finished", "failed", "cancelled"].includes(revision.status)
          ? "The preview appears here once the agent is done."
          : "No preview for this checkpoint."}
      </div>
    );
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col gap-1.5">
      <div className="flex flex-wrap items-center gap-0.5" role="toolbar" aria-label="Preview">
        {widths.map((option) => (
          <Button
            key={option.name}
            size="icon-sm"
            variant={width === option.name ? "secondary" : "ghost"}
            aria-label={`${option.name} width`}
            aria-pressed={width === option.name}
            onClick={() => setWidth(option.name)}
            disabled={asleep}
          >
            <option.icon />
          </Button>
        ))}
        <Button
          size="icon-sm"
          variant="ghost"
          aria-label="Reload the preview"
          onClick={() => setReloads((n) => n + 1)}
          disabled={asleep || !url}
        >
          <RotateCwIcon />
        </Button>
        {url && !asleep ? (
          <Button size="sm" variant="ghost" asChild>
            <a href={url} target="_blank" rel="noreferrer">
              <ExternalLinkIcon />
              Open
            </a>
          </Button>
        ) : null}
        {!notice && url && !asleep && previewedWhile[revision.status] ? (
          <span className="flex items-center gap-1.5 px-2 text-muted-foreground text-xs" role="status">
            <Loader2Icon className="size-3 animate-spin" aria-hidden />
            {previewedWhile[revision.status]}
          </span>
        ) : null}
        <span className="ml-auto min-w-0 truncate font-mono text-muted-foreground text-xs">{url ?? ""}</span>
      </div>
      {asleep || !url ? (
        <div className="relative flex min-h-64 flex-1 flex-col items-center justify-center gap-3 overflow-hidden rounded-lg border bg-muted/30 p-4">
          {notice ? <NoticeOverlay notice={notice} shownOrdinal={revision.ordinal} /> : null}
          {revision.screenshotUrl ? (
            // biome-ignore lint/performance/noImgElement: an authenticated API image, not a static asset
            <img
              src={revision.screenshotUrl}
              alt={`Screenshot of checkpoint ${revision.ordinal}`}
              className="max-h-[60vh] w-auto rounded border object-contain opacity-80"
            />
          ) : null}
          {asleep ? (
            <div className="flex flex-col items-center gap-2 text-center">
              <p className="flex items-center gap-2 text-sm">
                <MoonIcon className="size-4" aria-hidden /> The preview is asleep.
              </p>
              <Button onClick={wake} disabled={waking}>
                {waking ? <Spinner label="Waking" /> : null}
                Wake it
              </Button>
            </div>
          ) : null}
        </div>
      ) : (
        <div className="relative flex min-h-[24rem] flex-1 justify-center overflow-auto rounded-lg border bg-muted/30">
          {notice ? <NoticeOverlay notice={notice} shownOrdinal={revision.ordinal} /> : null}
          <iframe
            key={`${url}-${reloads}`}
            src={url}
            title={`Preview of checkpoint ${revision.ordinal}`}
            className={cn(
              "h-auto min-h-[24rem] flex-none self-stretch bg-white",
              frameWidth ? "border-x" : "w-full",
            )}
            style={frameWidth ? { width: frameWidth } : undefined}
            sandbox="allow-forms allow-scripts allow-same-origin allow-popups"
          />
        </div>
      )}
    </div>
  );
}

/**
 * Over the last good version while the next checkpoint builds, or after it failed: the app stays usable (the notice
 * takes no clicks), the notice says what goes on.
 */
function NoticeOverlay({ notice, shownOrdinal }: { notice: PreviewNotice; shownOrdinal: number }) {
  return (
    <div className="pointer-events-none absolute inset-x-0 top-0 z-10 flex justify-center p-3">
      <p
        className={cn(
          "flex max-w-full items-center gap-2 rounded-full border px-3 py-1.5 text-xs shadow-sm",
          notice.kind === "building" ? "bg-background/95" : "border-warning/50 bg-warning/15 backdrop-blur",
        )}
        role="status"
      >
        {notice.kind === "building" ? (
          <Loader2Icon className="size-3.5 shrink-0 animate-spin text-primary" aria-hidden />
        ) : null}
        <span className="min-w-0">{noticeText(notice, shownOrdinal)}</span>
      </p>
    </div>
  );
}
