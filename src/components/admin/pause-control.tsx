"use client";

import { OctagonPauseIcon, PlayIcon } from "lucide-react";
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { toast } from "sonner";
import { pausePlatformAction, resumePlatformAction } from "@/actions/governance";
import { ConfirmButton } from "@/components/settings/confirm-button";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Textarea } from "@/components/ui/textarea";
import type { PauseDto } from "@/server/governance/pause-dto";

/** The kill switch for admins: pause all agent work with a reason, or resume it. */
export function PauseControl({ pause }: { pause: PauseDto }) {
  const router = useRouter();
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  async function doPause(): Promise<boolean> {
    const result = await pausePlatformAction({ reason });
    if (!result.ok) {
      setError(result.error.fields?.reason?.[0] ?? result.error.message);
      return false;
    }
    setError(null);
    setReason("");
    toast.success(
      result.data.cancelled === 1
        ? "Agent work paused; 1 running build was cancelled"
        : `Agent work paused; ${result.data.cancelled} running builds were cancelled`,
    );
    router.refresh();
    return true;
  }

  function resume() {
    startTransition(async () => {
      const result = await resumePlatformAction({});
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      toast.success("Agent work resumed");
      router.refresh();
    });
  }

  if (pause.paused) {
    return (
      <Card className="border-amber-500/50">
        <CardHeader>
          <CardTitle className="flex items-center gap-2">
            <OctagonPauseIcon className="size-4" aria-hidden /> Agent work is paused
          </CardTitle>
          <CardDescription>
            Since {new Date(pause.pausedAt).toUTCString()}. New builds get 503 <code>paused</code>; running
            ones were cancelled.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <p className="text-sm">
            <span className="text-muted-foreground">Reason: </span>
            {pause.reason}
          </p>
        </CardContent>
        <CardFooter>
          <Button type="button" onClick={resume} disabled={pending}>
            {pending ? <Spinner label="Resuming" /> : <PlayIcon aria-hidden />}
            Resume agent work
          </Button>
        </CardFooter>
      </Card>
    );
  }

  const reasonOk = reason.trim().length >= 3;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Kill switch</CardTitle>
        <CardDescription>
          Pause all agent work on every Kiln server at once: running builds of every operator are cancelled
          with your reason and their sandboxes stopped; new builds are refused until you resume. Everyone sees
          a banner.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-1.5">
        <Label htmlFor={reasonId}>Reason (shown to everyone)</Label>
        <Textarea
          id={reasonId}
          value={reason}
          maxLength={500}
          rows={2}
          placeholder="e.g. The model vendor is billing twice; investigating."
          onChange={(event) => setReason(event.target.value)}
        />
        {error ? (
          <p role="alert" className="text-destructive text-sm">
            {error}
          </p>
        ) : null}
      </CardContent>
      <CardFooter>
        <ConfirmButton
          title="Pause all agent work?"
          description="Every running build of every operator is cancelled now, and no new build starts until an admin resumes."
          confirmLabel="Pause everything"
          pendingLabel="Pausing"
          triggerVariant="outline"
          disabled={!reasonOk}
          onConfirm={doPause}
        >
          <OctagonPauseIcon aria-hidden /> Pause all agent work
        </ConfirmButton>
      </CardFooter>
    </Card>
  );
}
