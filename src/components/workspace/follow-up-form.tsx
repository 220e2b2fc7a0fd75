"use client";

import { SendIcon, SquareIcon } from "lucide-react";
import { useState, useTransition } from "react";
import { toast } from "sonner";
import { cancelRevisionAction, sendFollowUpAction } from "@/actions/revisions";
import { type ModelChoice, ModelPicker } from "@/components/projects/model-picker";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Textarea } from "@/components/ui/textarea";

/** The chat box: a follow-up when nothing runs, cancel while a checkpoint does. Nothing typed is lost on an error. */
export function FollowUpForm(props: {
  projectId: string;
  taskId: string;
  runningRevisionId: string | null;
  /** The latest checkpoint's agent vendor, provider and model: a follow-up keeps them unless changed here. */
  vendor: "openai" | "anthropic";
  current: { provider: string; model: string };
  onSent: () => void;
  /** The running checkpoint was cancelled. */
  onCancelled?: () => void;
}) {
  const [modelChoice, setModelChoice] = useState<ModelChoice | null>(null);
  const [prompt, setPrompt] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const running = props.runningRevisionId !== null;

  function send() {
    startTransition(async () => {
      const result = await sendFollowUpAction({
        projectId: props.projectId,
        taskId: props.taskId,
        prompt,
        ...(modelChoice
          ? { provider: modelChoice.provider, ...(modelChoice.model ? { model: modelChoice.model } : {}) }
          : {}),
      });
      if (!result.ok) {
        const fields = result.error.fields ?? {};
        setError(fields.prompt?.[0] ?? fields.model?.[0] ?? fields.provider?.[0] ?? result.error.message);
        return;
      }
      setError(null);
      setPrompt("");
      setModelChoice(null);
      props.onSent();
    });
  }

  function cancel() {
    const revisionId = props.runningRevisionId;
    if (!revisionId) return;
    startTransition(async () => {
      const result = await cancelRevisionAction({ revisionId });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      toast.success(`Cancelled checkpoint ${result.data.ordinal}`);
      props.onCancelled?.();
    });
  }

  return (
    <form
      className="space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        if (!running) send();
      }}
    >
      <Label htmlFor="follow-up" className="sr-only">
        Follow-up prompt
      </Label>
      <div className="rounded-lg border bg-background focus-within:ring-[3px] focus-within:ring-ring/50">
        <Textarea
          id="follow-up"
          name="prompt"
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && (event.metaKey || event.ctrlKey) && !running) {
              event.preventDefault();
              send();
            }
          }}
          placeholder={
            running ? "A checkpoint is being built…" : "Ask for a change, e.g. “add a due date to each todo”"
          }
          rows={2}
          disabled={pending}
          className="max-h-48 min-h-16 resize-none border-0 shadow-none focus-visible:ring-0"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "follow-up-error" : "follow-up-hint"}
        />
        <div className="flex items-center gap-2 px-2 pb-2">
          <details className="group min-w-0 text-xs">
            <summary className="cursor-pointer select-none truncate text-muted-foreground">
              {modelChoice?.model || props.current.model}
              {(modelChoice?.provider ?? props.current.provider) === "openai-compatible"
                ? " (OpenAI-compatible server)"
                : ""}
            </summary>
            <div className="pt-2">
              <ModelPicker
                vendor={props.vendor}
                value={
                  modelChoice ?? {
                    provider:
                      props.current.provider === "openai-compatible" ? "openai-compatible" : props.vendor,
                    model: "",
                  }
                }
                onChange={setModelChoice}
                defaultModel={props.current.model}
              />
            </div>
          </details>
          <div className="ml-auto shrink-0 self-end">
            {running ? (
              <Button type="button" size="sm" variant="outline" onClick={cancel} disabled={pending}>
                {pending ? <Spinner label="Cancelling" /> : <SquareIcon />}
                Cancel
              </Button>
            ) : (
              <Button type="submit" size="sm" disabled={pending || prompt.trim().length === 0}>
                {pending ? <Spinner label="Sending" /> : <SendIcon />}
                Send
              </Button>
            )}
          </div>
        </div>
      </div>
      {error ? (
        <p id="follow-up-error" role="alert" className="text-destructive text-sm">
          {error}
        </p>
      ) : (
        <p id="follow-up-hint" className="text-muted-foreground text-xs">
          {running
            ? "Wait for it to finish, or cancel it."
            : "Each follow-up becomes a new checkpoint (⌘/Ctrl+Enter)."}
        </p>
      )}
    </form>
  );
}
