// What `GET /api/v1/revisions/:revisionId/deployment` answers (`{ deployment }`); the workspace reads it too.

export type RevisionDeployment = {
  /** The checkpoint's deployment (its latest), or null when it has none. */
  id: string | null;
  state: "none" | "queued" | "building" | "ready" | "error" | "canceled";
  /** Where it is served, once ready. */
  url: string | null;
  /** Why it failed, when it did. */
  error: string | null;
  /** A redeploy of the checkpoint is under way (its new deployment may not have started yet). */
  redeploying: boolean;
  /** The build and start output, oldest line first, secrets redacted; `truncated` when older lines were dropped. */
  log: { lines: string[]; truncated: boolean };
};
