/** Deployer: a revision's commit, built and served with its own environment. */

export type DeployerKind = "vercel" | "local";

export type DeploymentState = "queued" | "building" | "ready" | "error" | "canceled";

export type Deployment = {
  id: string;
  state: DeploymentState;
  /** Set once ready. */
  url: string | null;
  /** A readable reason when state is "error". */
  errorMessage: string | null;
};

export type DeployInput = {
  /** A readable name (project slug + revision ordinal). */
  name: string;
  /** What to deploy. Vercel: a git source; local: a directory of files for that commit. */
  source:
    | { kind: "git"; repoFullName: string; ref: string; sha: string }
    | { kind: "directory"; path: string };
  /** Per-deployment environment, so concurrent deploys never race on shared project variables. */
  env: Record<string, string>;
  /** Host paths the app needs, e.g. an embedded database file's directory (local deployer only). */
  hostPaths?: string[];
  /** Host TCP endpoints the app needs, e.g. a MySQL branch's server (local deployer only: its own network). */
  tcpEndpoints?: Array<{ host: string; port: number }>;
};

export interface Deployer {
  readonly kind: DeployerKind;
  deploy(input: DeployInput): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  /** Waits (bounded) for ready or error. */
  waitForDeployment(id: string, options?: { timeoutMs?: number }): Promise<Deployment>;
  /** The build output's error lines, for showing the operator and handing back to the agent. */
  buildErrors(id: string): Promise<string[]>;
  /** Stops serving; idempotent. */
  remove(id: string): Promise<void>;
}
