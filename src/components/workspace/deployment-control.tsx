"use client";

import { RocketIcon } from "lucide-react";
import { useCallback, useEffect, useState, useTransition } from "react";
import { toast } from "sonner";
import { z } from "zod";
import { redeployRevisionAction } from "@/actions/revisions";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { RevisionDeployment } from "@/server/revisions/revision-deployment-types";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { revisionDeploymentSchema } from "./revision-schemas";

// A checkpoint's deployment in the checkpoint list: "Redeploy" (POST /api/v1/revisions/:id/deploy, through its
// server action) and the deployment's state and build/start log (GET …/deployment), read again every few seconds
// while it builds. The poll is bounded: it stops when the log is closed, the build ends, or after 20 minutes.

const POLL_MS = 2_000;
const MAX_POLLS = (20 * 60_000) / POLL_MS;
const errorBody = z.object({ error: z.object({ message: z.string() }) });

const stateLabel: Record<RevisionDeployment["state"], string> = {
  none: "Not deployed",
  queued: "Queued",
  building: "Building",
  ready: "Ready",
  error: "Failed",
  canceled: "Removed",
};

function isBuilding(deployment: RevisionDeployment): boolean {
  return deployment.redeploying || deployment.state === "queued" || deployment.state === "building";
}

/** Which checkpoints offer Redeploy: finished ones with a commit (the API refuses the others). */
export function canRedeploy(revision: Pick<RevisionDto, "status" | "commitSha">): boolean {
  return revision.status === "finished" && revision.commitSha !== null;
}

function useDeployment(revisionId: string, open: boolean) {
  const [deployment, setDeployment] = useState<RevisionDeployment | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` is the reload signal (a redeploy started)
  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const response = await fetch(`/api/v1/revisions/${encodeURIComponent(revisionId)}/deployment`, {
          cache: "no-store",
          signal: controller.signal,
        });
        const body: unknown = await response.json();
        if (!response.ok) {
          const failure = errorBody.safeParse(body);
          setError(failure.success ? failure.data.error.message : `The server answered ${response.status}.`);
          return;
        }
        const parsed = z.object({ deployment: revisionDeploymentSchema }).safeParse(body);
        if (!parsed.success) {
          setError("The server's answer was not understood; reload the page.");
          return;
        }
        setError(null);
        setDeployment(parsed.data.deployment);
        polls += 1;
        if (isBuilding(parsed.data.deployment) && polls < MAX_POLLS)
          timer = setTimeout(() => void read(), POLL_MS);
      } catch (failure) {
        if (controller.signal.aborted) return;
        setError(failure instanceof Error ? failure.message : "The request failed.");
      }
    };
    void read();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [revisionId, open, generation]);

  return { deployment, error, reload };
}

function DeploymentLog({ deployment }: { deployment: RevisionDeployment }) {
  const { lines, truncated } = deployment.log;
  return (
    <div className="space-y-1">
      <p className="text-muted-foreground text-xs">
        {stateLabel[deployment.state]}
        {deployment.redeploying ? " · redeploying…" : ""}
        {deployment.url ? (
          <>
            {" · "}
            <a className="underline" href={deployment.url} target="_blank" rel="noreferrer">
              {deployment.url}
            </a>
          </>
        ) : null}
      </p>
      {deployment.error ? <p className="text-destructive text-xs">{deployment.error}</p> : null}
      {truncated ? <p className="text-muted-foreground text-xs">Older lines are left out.</p> : null}
      <pre
        className="max-h-72 overflow-auto whitespace-pre-wrap break-all rounded-md bg-muted p-2 font-mono text-xs"
        role="log"
        aria-label="Deployment log"
      >
        {lines.length > 0 ? lines.join("\n") : "No output yet."}
      </pre>
    </div>
  );
}

/** Redeploy and the deployment log of one checkpoint. */
export function DeploymentControl({ revision, disabled }: { revision: RevisionDto; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const [pending, startTransition] = useTransition();
  const { deployment, error, reload } = useDeployment(revision.id, open);
  const redeployable = canRedeploy(revision);

  function onRedeploy() {
    startTransition(async () => {
      const result = await redeployRevisionAction({ revisionId: revision.id });
      if (!result.ok) {
        toast.error(result.error.message);
        return;
      }
      toast.success(`Redeploying checkpoint ${revision.ordinal}`);
      setOpen(true);
      reload();
    });
  }

  return (
    <div className="space-y-2">
      {redeployable ? (
        <Button
          size="sm"
          variant="outline"
          onClick={onRedeploy}
          disabled={disabled || pending || (deployment !== null && isBuilding(deployment))}
        >
          {pending ? <Spinner label="Redeploying" /> : <RocketIcon />}
          Redeploy
        </Button>
      ) : null}
      <details
        className="rounded-md border"
        open={open}
        onToggle={(event) => setOpen(event.currentTarget.open)}
      >
        <summary className="cursor-pointer px-3 py-1.5 text-xs">Deployment log</summary>
        <div className="border-t p-2">
          {error ? <p className="text-destructive text-xs">{error}</p> : null}
          {!deployment && !error ? <Spinner label="Reading the deployment" /> : null}
          {deployment ? <DeploymentLog deployment={deployment} /> : null}
        </div>
      </details>
    </div>
  );
}
