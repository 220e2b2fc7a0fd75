"use client";

import { RotateCcwIcon, WrenchIcon } from "lucide-react";
import { useTransition } from "react";
import { toast } from "sonner";
import { restoreRevisionAction, sendFollowUpAction } from "@/actions/revisions";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { RevisionDto } from "@/server/revisions/revision-types";
import type { StepName } from "@/server/revisions/state-machine";
import { recoveryFor } from "./recovery";

/**
 * One click on from a failed newest checkpoint: "Fix it" hands the failure to the agent as a follow-up, "Try again"
 * runs the same request again (a restore restores again).
 */
export function RecoveryActions(props: {
  projectId: string;
  taskId: string;
  revision: RevisionDto;
  failedStep: StepName | null;
  onStarted: () => void;
}) {
  const [pending, startTransition] = useTransition();
  const recovery = recoveryFor(props.revision, props.failedStep);
  if (!recovery) return null;

  function run() {
    if (!recovery) return;
    startTransition(async () => {
      const result =
        recovery.kind === "restore-again"
          ? await restoreRevisionAction({ revisionId: recovery.revisionId })
          : await sendFollowUpAction({
              projectId: props.projectId,
              taskId: props.taskId,
              prompt: recovery.prompt,
            });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      toast.success(`Started checkpoint ${result.data.ordinal}`);
      props.onStarted();
    });
  }

  const fix = recovery.kind === "fix";
  return (
    <div className="mt-3 flex flex-wrap items-center gap-2">
      <Button size="sm" onClick={run} disabled={pending}>
        {pending ? <Spinner label="Starting" /> : fix ? <WrenchIcon /> : <RotateCcwIcon />}
        {fix ? "Fix it" : "Try again"}
      </Button>
      <span className="text-muted-foreground text-xs">
        {fix
          ? "Sends the error to the agent as a follow-up."
          : "Runs this checkpoint's request again as a new checkpoint."}
      </span>
    </div>
  );
}
