"use client";

import { type ReactNode, useState, useTransition } from "react";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
  AlertDialogTrigger,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";

/**
 * A button whose action cannot be undone: it asks first. `onConfirm` resolves true when done (the dialog closes)
 * and false when it failed (the dialog stays, the caller has said why).
 */
export function ConfirmButton(props: {
  children: ReactNode;
  /** The trigger's accessible name when its text alone is ambiguous (e.g. "Revoke ci-token"). */
  label?: string;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  pendingLabel: string;
  disabled?: boolean;
  onConfirm: () => Promise<boolean>;
  triggerVariant?: "ghost" | "outline";
  /** What keeping things as they are is called; default "Cancel". */
  cancelLabel?: string;
  /** "default" when the action is not destructive (a promote); default "destructive". */
  confirmVariant?: "default" | "destructive";
}) {
  const [open, setOpen] = useState(false);
  const [pending, startTransition] = useTransition();

  function confirm() {
    startTransition(async () => {
      if (await props.onConfirm()) setOpen(false);
    });
  }

  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger asChild>
        <Button
          type="button"
          variant={props.triggerVariant ?? "ghost"}
          size="sm"
          disabled={props.disabled}
          aria-label={props.label}
        >
          {props.children}
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>{props.title}</AlertDialogTitle>
          <AlertDialogDescription>{props.description}</AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel disabled={pending}>{props.cancelLabel ?? "Cancel"}</AlertDialogCancel>
          <Button variant={props.confirmVariant ?? "destructive"} onClick={confirm} disabled={pending}>
            {pending ? <Spinner label={props.pendingLabel} /> : null}
            {props.confirmLabel}
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
