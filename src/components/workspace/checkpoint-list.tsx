"use client";

import { HistoryIcon } from "lucide-react";
import { useState, useTransition } from "react";
import { toast } from "sonner";
import { restoreRevisionAction } from "@/actions/revisions";
import { StatusBadge } from "@/components/projects/status-badge";
import { NewTaskDialog } from "@/components/tasks/new-task-dialog";
import { PromoteButton } from "@/components/tasks/promote-button";
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
import { cn } from "@/lib/utils";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { DeploymentControl } from "./deployment-control";
import { canRestore, canStartTaskFrom } from "./shown-checkpoint";

const tokens = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const money = new Intl.NumberFormat("en", { style: "currency", currency: "USD", maximumFractionDigits: 4 });
const time = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

function RestoreButton({
  revision,
  disabled,
  onRestored,
}: {
  revision: RevisionDto;
  disabled: boolean;
  onRestored: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [pending, startTransition] = useTransition();

  function onConfirm() {
    startTransition(async () => {
      const result = await restoreRevisionAction({ revisionId: revision.id });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      setOpen(false);
      toast.success(`Restoring checkpoint ${revision.ordinal} as checkpoint ${result.data.ordinal}`);
      onRestored();
    });
  }

  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger asChild>
        <Button size="sm" variant="outline" disabled={disabled}>
          <HistoryIcon />
          Restore this version
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogHeader>
          <AlertDialogTitle>Restore checkpoint {revision.ordinal}?</AlertDialogTitle>
          <AlertDialogDescription>
            A new checkpoint is made from it. Code: its files are committed on top of the branch, so the
            history after it stays and nothing is rewritten. Data: the app gets a new database branch copied
            from checkpoint {revision.ordinal}&apos;s, so rows written in later checkpoints are not in it and
            its schema is back. Later checkpoints keep their own code and data, and you can restore them too.
          </AlertDialogDescription>
        </AlertDialogHeader>
        <AlertDialogFooter>
          <AlertDialogCancel disabled={pending}>Keep the current version</AlertDialogCancel>
          <Button onClick={onConfirm} disabled={pending}>
            {pending ? <Spinner label="Restoring" /> : null}
            Restore checkpoint {revision.ordinal}
          </Button>
        </AlertDialogFooter>
      </AlertDialogContent>
    </AlertDialog>
  );
}

/** Each checkpoint of the task, newest first: pick one to see its preview, diff and database. */
export function CheckpointList(props: {
  projectId: string;
  /** The project's main task; on another task each finished checkpoint can be promoted onto it. */
  mainTaskId: string;
  taskId: string;
  revisions: RevisionDto[];
  selectedId: string | null;
  onSelect: (revisionId: string) => void;
  /** A restore was started: its new checkpoint is the one to show. */
  onRestored: () => void;
  busy: boolean;
}) {
  const newestFirst = [...props.revisions].sort((a, b) => b.ordinal - a.ordinal);
  return (
    <ol className="space-y-2" aria-label="Checkpoints">
      {newestFirst.map((revision) => {
        const selected = revision.id === props.selectedId;
        const cost = revision.usage.costUsd;
        return (
          <li
            key={revision.id}
            className={cn("rounded-lg border p-3 text-sm", selected && "border-primary ring-1 ring-primary")}
          >
            <button
              type="button"
              className="w-full text-left"
              aria-current={selected ? "true" : undefined}
              onClick={() => props.onSelect(revision.id)}
            >
              <span className="flex items-center gap-2">
                <span className="font-medium">Checkpoint {revision.ordinal}</span>
                {revision.kind === "restore" ? (
                  <span className="text-muted-foreground text-xs">restore</span>
                ) : null}
                <StatusBadge status={revision.status} />
              </span>
              <span className="mt-1 line-clamp-2 block text-muted-foreground">{revision.prompt}</span>
            </button>
            <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-muted-foreground text-xs">
              <dt>When</dt>
              <dd>{time.format(revision.createdAt)}</dd>
              <dt>Commit</dt>
              <dd className="font-mono">{revision.commitSha?.slice(0, 7) ?? "—"}</dd>
              <dt>Database</dt>
              <dd className="truncate font-mono">{revision.dbBranchId ?? "—"}</dd>
              <dt>Model</dt>
              <dd className="truncate font-mono">
                {revision.model}
                {revision.modelProvider === "openai-compatible" ? " · OpenAI-compatible" : ""}
              </dd>
              <dt>Tokens</dt>
              <dd>
                {revision.usage.estimated ? "≈ " : ""}
                {tokens.format(revision.usage.inputTokens)} in · {tokens.format(revision.usage.outputTokens)}{" "}
                out
                {cost > 0 ? ` · ${money.format(cost)}` : ""}
                {revision.usage.estimated ? " (estimated: the server reported no usage)" : ""}
              </dd>
              {revision.deployUrl ? (
                <>
                  <dt>Deployed</dt>
                  <dd className="truncate">
                    <a className="underline" href={revision.deployUrl} target="_blank" rel="noreferrer">
                      {revision.deployUrl}
                    </a>
                  </dd>
                </>
              ) : null}
            </dl>
            {canRestore(revision, props.revisions) || canStartTaskFrom(revision) ? (
              <div className="mt-2 flex flex-wrap gap-2">
                {canRestore(revision, props.revisions) ? (
                  <RestoreButton revision={revision} disabled={props.busy} onRestored={props.onRestored} />
                ) : null}
                {canStartTaskFrom(revision) ? (
                  <NewTaskDialog
                    projectId={props.projectId}
                    from={{ revisionId: revision.id, ordinal: revision.ordinal }}
                    trigger={{ label: "New task from here", size: "sm", variant: "outline" }}
                  />
                ) : null}
                {canStartTaskFrom(revision) && props.taskId !== props.mainTaskId ? (
                  <PromoteButton
                    projectId={props.projectId}
                    mainTaskId={props.mainTaskId}
                    revision={revision}
                  />
                ) : null}
              </div>
            ) : null}
            {revision.status === "finished" || revision.step === "deploy" ? (
              <div className="mt-2">
                <DeploymentControl revision={revision} disabled={props.busy} />
              </div>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
