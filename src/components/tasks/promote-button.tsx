"use client";

import { GitMergeIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { toast } from "sonner";
import { promoteCheckpointAction } from "@/actions/tasks";
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

/** "Promote to main": a task's checkpoint restored onto the main task, whose workspace then opens. */
export function PromoteButton(props: {
  projectId: string;
  mainTaskId: string;
  revision: { id: string; ordinal: number };
  disabled?: boolean;
}) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [pending, startTransition] = useTransition();

  function onConfirm() {
    startTransition(async () => {
      const result = await promoteCheckpointAction({
        revisionId: props.revision.id,
        taskId: props.mainTaskId,
      });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      setOpen(false);
      toast.success(
        `Promoting checkpoint ${props.revision.ordinal} as main's checkpoint ${result.data.ordinal}`,
      );
      router.push(`/projects/${props.projectId}/tasks/${props.mainTaskId}`);
    });
  }

  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger asChild>
        <Button size="sm" variant="outline" disabled={props.disabled}>
          <GitMergeIcon />
          Promote to main
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Promote checkpoint {props.revision.ordinal} to main?</AlertDialogTitle>
          <AlertDialogDescription>
            The main task gets a new checkpoint restored from this one. Code: its files are committed on top
            of main, so main&apos;s history stays. Data: main&apos;s app gets a copy of this checkpoint&apos;s
            database, so rows written on main since this task started are not in it. This task keeps its own
            branch, data and checkpoints.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel disabled={pending}>Keep main as it is</AlertDialogCancel>
          <Button onClick={onConfirm} disabled={pending}>
            {pending ? <Spinner label="Promoting" /> : null}
            Promote checkpoint {props.revision.ordinal}
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}
