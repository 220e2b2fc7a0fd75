"use client";

import { CopyIcon, ExternalLinkIcon, GlobeIcon, RefreshCwIcon, RocketIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useEffect, useState, useTransition } from "react";
import { toast } from "sonner";
import { z } from "zod";
import { publishProjectAction, unpublishProjectAction } from "@/actions/projects";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";

export type PublishState = {
  published: { url: string; revisionId: string; ordinal: number; publishedAt: number } | null;
  publishable: { revisionId: string; ordinal: number } | null;
};

// What GET /api/v1/projects/:id says of publishing, parsed like any other answer from the server.
const projectAnswer = z.object({
  project: z.object({
    published: z
      .object({ url: z.string(), revisionId: z.string(), ordinal: z.number(), publishedAt: z.number() })
      .nullable(),
    publishable: z.object({ revisionId: z.string(), ordinal: z.number() }).nullable(),
  }),
});

/** How often the header asks again, so "Update" appears once a newer checkpoint has deployed. */
const REFRESH_MS = 15_000;

/**
 * Publish the project's newest finished checkpoint at its stable URL; once published: the URL (copy, open), Update
 * when a newer checkpoint is ready, and Unpublish.
 */
export function PublishControl({ projectId, initial }: { projectId: string; initial: PublishState }) {
  const router = useRouter();
  const [state, setState] = useState(initial);
  const [pending, startTransition] = useTransition();

  useEffect(() => {
    const controller = new AbortController();
    const timer = setInterval(() => {
      if (document.visibilityState !== "visible") return;
      fetch(`/api/v1/projects/${encodeURIComponent(projectId)}`, { signal: controller.signal })
        .then(async (response) => {
          if (!response.ok) return;
          const parsed = projectAnswer.safeParse(await response.json());
          if (parsed.success) setState(parsed.data.project);
        })
        .catch((error: unknown) => {
          // A failed refresh leaves the control as it was; the next one tries again.
          if (!(error instanceof DOMException && error.name === "AbortError")) {
            console.warn("publish state refresh failed", error);
          }
        });
    }, REFRESH_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [projectId]);

  const { published, publishable } = state;
  const canUpdate = Boolean(published && publishable && publishable.ordinal > published.ordinal);

  function publish(revisionId?: string) {
    startTransition(async () => {
      const result = await publishProjectAction({ projectId, ...(revisionId ? { revisionId } : {}) });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      setState((current) => ({ ...current, published: result.data }));
      toast.success(`Checkpoint ${result.data.ordinal} is live at ${result.data.url}`);
      router.refresh();
    });
  }

  function unpublish() {
    startTransition(async () => {
      const result = await unpublishProjectAction({ projectId });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      setState((current) => ({ ...current, published: null }));
      toast.success("Unpublished: the stable URL now says the app is not published.");
      router.refresh();
    });
  }

  async function copy(url: string) {
    try {
      await navigator.clipboard.writeText(url);
      toast.success("Published URL copied");
    } catch (error) {
      // Clipboard access can be refused (insecure origin, permissions): show the URL instead.
      toast.message(url, { description: error instanceof Error ? "Copy it from here." : undefined });
    }
  }

  if (!published) {
    return (
      <Button
        size="sm"
        disabled={pending || !publishable}
        title={
          publishable ? undefined : "Publish becomes available once a checkpoint has finished and deployed."
        }
        onClick={() => publish(publishable?.revisionId)}
      >
        <RocketIcon />
        {pending ? "Publishing…" : "Publish"}
      </Button>
    );
  }

  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant={canUpdate ? "default" : "outline"} size="sm" disabled={pending}>
          {canUpdate ? <RefreshCwIcon /> : <GlobeIcon />}
          {pending ? "Publishing…" : canUpdate ? "Update" : "Published"}
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-80">
        <DropdownMenuLabel className="font-normal text-muted-foreground text-xs">
          Checkpoint {published.ordinal} is live at
          <span className="mt-1 block break-all font-mono text-foreground" data-testid="published-url">
            {published.url}
          </span>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        {canUpdate && publishable ? (
          <DropdownMenuItem onSelect={() => publish(publishable.revisionId)}>
            <RefreshCwIcon />
            Update to checkpoint {publishable.ordinal}
          </DropdownMenuItem>
        ) : null}
        <DropdownMenuItem onSelect={() => void copy(published.url)}>
          <CopyIcon />
          Copy URL
        </DropdownMenuItem>
        <DropdownMenuItem asChild>
          <a href={published.url} target="_blank" rel="noreferrer">
            <ExternalLinkIcon />
            Open the app
          </a>
        </DropdownMenuItem>
        <DropdownMenuItem variant="destructive" onSelect={unpublish}>
          Unpublish
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
