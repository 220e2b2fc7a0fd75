import type { Revision } from "@/server/db/schema";

export type QueuedRevisionFields = Pick<
  Revision,
  | "id"
  | "project_id"
  | "task_id"
  | "ordinal"
  | "kind"
  | "prompt"
  | "agent"
  | "model"
  | "parent_revision_id"
  | "restored_from_revision_id"
> &
  // Null (the agent's own vendor) when not named.
  Partial<Pick<Revision, "model_provider">>;

/** A new checkpoint as the pipeline expects to find it: queued, with nothing built yet. */
export function queuedRevisionRow(fields: QueuedRevisionFields, now: number) {
  return {
    ...fields,
    model_provider: fields.model_provider ?? null,
    status: "queued",
    step: null,
    error_code: null,
    error_message: null,
    plan: null,
    commit_sha: null,
    base_sha: null,
    db_branch_id: null,
    sandbox_id: null,
    preview_url: null,
    deploy_url: null,
    deployment_id: null,
    screenshot_key: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    heartbeat_at: null,
    lease_owner: null,
    lease_expires_at: null,
    advanced_seq: null,
    build_key: null,
  } satisfies Omit<
    Revision,
    "input_tokens" | "output_tokens" | "cached_tokens" | "cost_usd_micros" | "usage_estimated"
  >;
}
