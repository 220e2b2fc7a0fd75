"use client";

import { GitBranchPlusIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { startTaskAction } from "@/actions/tasks";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Spinner } from "@/components/ui/spinner";
import { Textarea } from "@/components/ui/textarea";
import type { TaskStartPoint } from "@/server/tasks/task-types";

function startPointLabel(point: TaskStartPoint): string {
  const task = point.isMainTask ? "main" : point.branch;
  return `${task} · checkpoint ${point.ordinal}: ${point.prompt.replace(/\s+/g, " ").slice(0, 60)}`;
}

/**
 * "New task": a prompt, and the finished checkpoint the task starts from — fixed (`from`, the workspace's "New task
 * from here") or picked among `startPoints` (the project page; the main task's newest first, the default).
 * A started task opens in its workspace.
 */
export function NewTaskDialog(props: {
  projectId: string;
  from?: { revisionId: string; ordinal: number };
  startPoints?: TaskStartPoint[];
  trigger: { label: string; size?: "sm" | "default"; variant?: "default" | "outline" };
  disabled?: boolean;
}) {
  const router = useRouter();
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState("");
  const [picked, setPicked] = useState(props.startPoints?.[0]?.revisionId ?? "");
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const fromRevisionId = props.from?.revisionId ?? picked;

  function start() {
    startTransition(async () => {
      const result = await startTaskAction({
        projectId: props.projectId,
        prompt,
        ...(fromRevisionId ? { fromRevisionId } : {}),
      });
      if (!result.ok) {
        setError(result.error.fields?.prompt?.[0] ?? result.error.message);
        return;
      }
      setOpen(false);
      setPrompt("");
      setError(null);
      toast.success(`Started ${result.data.branch}`);
      router.push(`/projects/${result.data.projectId}/tasks/${result.data.taskId}`);
    });
  }

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button size={props.trigger.size} variant={props.trigger.variant} disabled={props.disabled}>
          <GitBranchPlusIcon />
          {props.trigger.label}
        </Button>
      </DialogTrigger>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>
            {props.from ? `New task from checkpoint ${props.from.ordinal}` : "New task"}
          </DialogTitle>
          <DialogDescription>
            A task is a line of work on its own git branch. It starts from a finished checkpoint&apos;s code
            and a copy of its database, so nothing it does reaches the other tasks until you promote it.
          </DialogDescription>
        </DialogHeader>
        <form
          id={`${ids}-form`}
          className="min-w-0 space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            start();
          }}
        >
          {props.from ? null : (
            <div className="min-w-0 space-y-2">
              <Label htmlFor={`${ids}-from`}>Start from</Label>
              <Select value={picked} onValueChange={setPicked} disabled={pending}>
                {/* A checkpoint's prompt can be long: the choice is cut, never the dialog widened. */}
                <SelectTrigger
                  id={`${ids}-from`}
                  className="w-full min-w-0 *:data-[slot=select-value]:block! *:data-[slot=select-value]:truncate"
                >
                  <SelectValue placeholder="The main task's latest checkpoint" />
                </SelectTrigger>
                <SelectContent className="max-w-[calc(100vw-2rem)]">
                  {(props.startPoints ?? []).map((point, index) => (
                    <SelectItem key={point.revisionId} value={point.revisionId} className="min-w-0">
                      <span className="min-w-0 truncate">
                        {startPointLabel(point)}
                        {index === 0 && point.isMainTask ? " (latest)" : ""}
                      </span>
                    </SelectItem>
                  ))}
                </SelectContent>
              </Select>
            </div>
          )}
          <div className="space-y-2">
            <Label htmlFor={`${ids}-prompt`}>What should this task do?</Label>
            <Textarea
              id={`${ids}-prompt`}
              value={prompt}
              onChange={(event) => setPrompt(event.target.value)}
              placeholder="e.g. “try a dark theme”"
              rows={4}
              disabled={pending}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${ids}-error` : undefined}
            />
            {error ? (
              <p id={`${ids}-error`} role="alert" className="text-destructive text-sm">
                {error}
              </p>
            ) : null}
          </div>
        </form>
        <DialogFooter>
          <Button type="submit" form={`${ids}-form`} disabled={pending || prompt.trim().length === 0}>
            {pending ? <Spinner label="Starting" /> : <GitBranchPlusIcon />}
            Start task
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
