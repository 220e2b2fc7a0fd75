"use client";

import { CopyIcon } from "lucide-react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";

export type ShownLink = { title: string; email: string; url: string; expiresAt: number };

/** Shows a one-time link once: Kiln keeps only its hash, so closing this is the last chance to copy it. */
export function OperatorLinkDialog({ link, onClose }: { link: ShownLink | null; onClose: () => void }) {
  async function copy() {
    if (!link) return;
    await navigator.clipboard.writeText(link.url);
    toast.success("Link copied");
  }
  return (
    <Dialog open={link !== null} onOpenChange={(open) => (open ? undefined : onClose())}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{link?.title}</DialogTitle>
          <DialogDescription>
            Send this link to {link?.email}. It sets their password once and expires on{" "}
            {link ? new Date(link.expiresAt).toLocaleDateString("en", { dateStyle: "medium" }) : ""}. It is
            shown only now.
          </DialogDescription>
        </DialogHeader>
        <div className="flex items-center gap-2">
          <Input readOnly value={link?.url ?? ""} className="font-mono text-xs" aria-label="One-time link" />
          <Button variant="outline" size="icon" onClick={copy} aria-label="Copy link">
            <CopyIcon />
          </Button>
        </div>
        <DialogFooter>
          <Button onClick={onClose}>Done</Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
