import { z } from "zod";
import type { Deployment, DeploymentState } from "./port";

/**
 * Vercel's deployment object (the answer of `POST /v13/deployments` and `GET /v13/deployments/{id}`), reduced to
 * what the port needs. `url` is a host without scheme ("app-abc123-team.vercel.app").
 */

export const vercelDeploymentSchema = z.object({
  id: z.string().min(1),
  url: z.string().nullish(),
  readyState: z.string().nullish(),
  status: z.string().nullish(),
  errorMessage: z.string().nullish(),
  errorCode: z.string().nullish(),
  errorStep: z.string().nullish(),
});

export type VercelDeployment = z.infer<typeof vercelDeploymentSchema>;

const states: Record<string, DeploymentState> = {
  QUEUED: "queued",
  INITIALIZING: "building",
  BUILDING: "building",
  READY: "ready",
  ERROR: "error",
  CANCELED: "canceled",
};

export function stateOf(deployment: VercelDeployment): DeploymentState {
  const raw = deployment.readyState ?? deployment.status ?? "";
  // A state Vercel adds later is treated as not finished: waiting stays bounded by its timeout.
  return states[raw.toUpperCase()] ?? "building";
}

function httpsUrl(host: string): string {
  return /^https?:\/\//i.test(host) ? host : `https://${host}`;
}

function errorMessageOf(deployment: VercelDeployment, state: DeploymentState): string | null {
  if (state === "canceled") return "The deployment was canceled on Vercel before it finished.";
  if (state !== "error") return null;
  const reason = deployment.errorMessage?.trim() || "The Vercel build failed";
  const where = [deployment.errorStep && `step ${deployment.errorStep}`, deployment.errorCode]
    .filter(Boolean)
    .join(", ");
  return where ? `${reason} (${where})` : reason;
}

export function toDeployment(deployment: VercelDeployment): Deployment {
  const state = stateOf(deployment);
  return {
    id: deployment.id,
    state,
    url: state === "ready" && deployment.url ? httpsUrl(deployment.url) : null,
    errorMessage: errorMessageOf(deployment, state),
  };
}
