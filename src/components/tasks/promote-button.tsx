"use client";

import { GitMergeIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { toast } from "sonner";
import { promoteCheckpointAction } from "@/actions/tasks";
import { ConfirmButton } from "@/components/settings/confirm-button";

/** "Promote to main": a task's checkpoint restored onto the main task, whose workspace then opens. */
export function PromoteButton(props: {
  projectId: string;
  mainTaskId: string;
  revision: { id: string; ordinal: number };
  disabled?: boolean;
}) {
  const router = useRouter();

  async function promote(): Promise<boolean> {
    const result = await promoteCheckpointAction({ revisionId: props.revision.id, taskId: props.mainTaskId });
    if (!result.ok) {
      toast.error(result.error.message);
      return false;
    }
    toast.success(
      `Promoting checkpoint ${props.revision.ordinal} as main's checkpoint ${result.data.ordinal}`,
    );
    router.push(`/projects/${props.projectId}/tasks/${props.mainTaskId}`);
    return true;
  }

  return (
    <ConfirmButton
      triggerVariant="outline"
      disabled={props.disabled}
      title={`Promote checkpoint ${props.revision.ordinal} to main?`}
      description={
        <>
          The main task gets a new checkpoint restored from this one. Code: its files are committed on top of
          main, so main&apos;s history stays. Data: main&apos;s app gets a copy of this checkpoint&apos;s
          database, so rows written on main since this task started are not in it. This task keeps its own
          branch, data and checkpoints.
        </>
      }
      cancelLabel="Keep main as it is"
      confirmLabel={`Promote checkpoint ${props.revision.ordinal}`}
      confirmVariant="default"
      pendingLabel="Promoting"
      onConfirm={promote}
    >
      <GitMergeIcon />
      Promote to main
    </ConfirmButton>
  );
}
