"use client";

import { CopyIcon, LinkIcon, Share2Icon } from "lucide-react";
import { useState, useTransition } from "react";
import { toast } from "sonner";
import { setShareLinkAction } from "@/actions/share";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import type { ShareLink } from "@/server/share-links/share-link-types";

/** Copy the public replay link, revoke it (then it is a 404), or make it public again. */
export function ShareControl({ taskId, initial }: { taskId: string; initial: ShareLink }) {
  const [link, setLink] = useState(initial);
  const [pending, startTransition] = useTransition();

  async function copy() {
    try {
      await navigator.clipboard.writeText(link.url);
      toast.success("Share link copied");
    } catch (error) {
      // Clipboard access can be refused (insecure origin, permissions): show the link instead.
      toast.message(link.url, { description: error instanceof Error ? "Copy it from here." : undefined });
    }
  }

  function setRevoked(revoked: boolean) {
    startTransition(async () => {
      const result = await setShareLinkAction({ taskId, revoked });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      setLink(result.data);
      toast.success(
        revoked ? "The share link is revoked: it now answers 404." : "The share link is public again.",
      );
    });
  }

  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="outline" size="sm" disabled={pending}>
          <Share2Icon />
          Share
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-72">
        <DropdownMenuLabel className="font-normal text-muted-foreground text-xs">
          {link.revoked
            ? "The replay link is revoked."
            : "Anyone with the link can watch this task live or replay it. No login, read-only."}
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        {link.revoked ? (
          <DropdownMenuItem onSelect={() => setRevoked(false)}>
            <LinkIcon />
            Make the link public again
          </DropdownMenuItem>
        ) : (
          <>
            <DropdownMenuItem onSelect={() => void copy()}>
              <CopyIcon />
              Copy share link
            </DropdownMenuItem>
            <DropdownMenuItem asChild>
              <a href={link.url} target="_blank" rel="noreferrer">
                <LinkIcon />
                Open the replay
              </a>
            </DropdownMenuItem>
            <DropdownMenuItem variant="destructive" onSelect={() => setRevoked(true)}>
              Revoke the link
            </DropdownMenuItem>
          </>
        )}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
