import type { RepoRef } from "../git-host/port";
import type { Vendor } from "../provider-error";
import type { DeploymentLog } from "./deployment-log";

export type { DeploymentLog } from "./deployment-log";

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
  /**
   * The source's verified `next build` output (`.next`, gzipped tar), when one is stored; null once it is gone.
   * The local deployer unpacks it and only starts the app (no second build); Vercel builds the pushed commit itself
   * (docs/providers.md "Deployer").
   */
  prebuilt?: () => Promise<Buffer | null>;
};

/** A pushed commit to deploy. */
export type CommitToDeploy = {
  repo: RepoRef;
  /** The git branch holding the commit. */
  branch: string;
  sha: string;
  /** Writes the commit's files into `destDir` (empty or missing), from the project's git host. */
  exportFiles(destDir: string): Promise<void>;
};

export type DeployCommitInput = Omit<DeployInput, "source"> & { commit: CommitToDeploy };

export interface Deployer {
  readonly kind: DeployerKind;
  /** The vendor its errors (and the deploy step's, for a deployment that failed) name. */
  readonly vendor: Vendor;
  deploy(input: DeployInput): Promise<Deployment>;
  /**
   * Deploys a pushed commit, staged the way this adapter builds: Vercel builds it from its GitHub repository (a
   * commit elsewhere is "invalid"); the local deployer builds the commit's files (`exportFiles`) and removes them
   * once its build is over.
   */
  deployCommit(input: DeployCommitInput): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  /** Waits (bounded) for ready or error. */
  waitForDeployment(id: string, options?: { timeoutMs?: number }): Promise<Deployment>;
  /** The build output's error lines, for showing the operator and handing back to the agent. */
  buildErrors(id: string): Promise<string[]>;
  /**
   * The deployment's build and start output, oldest line first, bounded, with the deployment's env values and
   * `secrets` redacted; null for an unknown deployment. Local: `npm ci`, `npm run build` and `npm run start` as they
   * run (kept after a restart); Vercel: the build events its API keeps.
   */
  deploymentLog(id: string, options?: { secrets?: readonly string[] }): Promise<DeploymentLog | null>;
  /** Stops serving; idempotent. */
  remove(id: string): Promise<void>;
  /**
   * A newer deployment of the same line of work is ready: retires deployment `id` where this adapter does, and says
   * whether it did. Local deployments are each a server of their own, so they are removed; Vercel's stay
   * (immutable, and cheap to keep).
   */
  retireReplaced(id: string): Promise<boolean>;
  /**
   * Serves deployment `id` (ready) at the project's stable address named `alias` (a DNS label, e.g. "todo-5k3x"),
   * moving it off whichever deployment it served before; answers the public URL, or null where Kiln serves the
   * stable address itself. Vercel: the alias `<alias>.vercel.app` assigned to the deployment; local: nothing to do
   * (the preview proxy's project host follows the database, docs/pipeline.md "Publishing").
   */
  publish(id: string, alias: string): Promise<{ url: string | null }>;
  /** Stops serving the stable address `alias`; idempotent (an address already gone is fine). */
  unpublish(alias: string): Promise<void>;
}
