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

/** The checkpoint's running app in a frame; its screenshot with a wake button while the sandbox sleeps. */
export function PreviewPane({ revision }: { revision: RevisionDto | null }) {
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
      <div className="flex h-full min-h-64 items-center justify-center rounded-lg border border-dashed p-6 text-center text-muted-foreground text-sm">
        {revision && !["finished", "failed", "cancelled"].includes(revision.status)
          ? "The preview appears here once the agent is done."
          : "No preview for this checkpoint."}
      </div>
    );
  }

  return (
    <div className="flex h-full min-h-0 flex-col gap-2">
      <div className="flex flex-wrap items-center gap-1" role="toolbar" aria-label="Preview">
        {widths.map((option) => (
          <Button
            key={option.name}
            size="icon"
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
          size="icon"
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
        <span className="ml-auto truncate font-mono text-muted-foreground text-xs">{url ?? ""}</span>
      </div>
      {url && !asleep && previewedWhile[revision.status] ? (
        <p className="flex items-center gap-2 text-muted-foreground text-xs" role="status">
          <Loader2Icon className="size-3 animate-spin" aria-hidden />
          {previewedWhile[revision.status]}
        </p>
      ) : null}
      {asleep || !url ? (
        <div className="relative flex min-h-64 flex-1 flex-col items-center justify-center gap-3 overflow-hidden rounded-lg border bg-muted/30 p-4">
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
        <div className="flex min-h-[24rem] flex-1 justify-center overflow-auto rounded-lg border bg-muted/30">
          <iframe
            key={`${url}-${reloads}`}
            src={url}
            title={`Preview of checkpoint ${revision.ordinal}`}
            className={cn("h-full min-h-[24rem] bg-white", frameWidth ? "border-x" : "w-full")}
            style={frameWidth ? { width: frameWidth } : undefined}
            sandbox="allow-forms allow-scripts allow-same-origin allow-popups"
          />
        </div>
      )}
    </div>
  );
}
