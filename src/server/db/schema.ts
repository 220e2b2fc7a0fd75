import type { Generated, Insertable, Selectable, Updateable } from "kysely";

// The typed schema of the control-plane database. Must stay in sync with migrations/: the integration test
// "schema matches migrations" introspects a migrated database and compares it with `schemaColumns` below.
// Timestamps are epoch milliseconds (see migrations/helpers.ts).

export interface UserTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  password_changed_at: number;
  /** The agent, model provider and model of new projects that name none (Settings); null: Kiln's defaults. */
  default_agent: string | null;
  default_model_provider: string | null;
  default_model: string | null;
  /** "admin" or "operator" (see auth/roles.ts); the first operator is an admin. */
  role: Generated<string>;
  /** Set while an admin has disabled the account: its sessions and tokens are refused, its projects stay. */
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AuthSessionTable {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

export interface RateLimitTable {
  bucket: string;
  hits: number;
  window_started_at: number;
}

export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  display_prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface CredentialTable {
  id: string;
  user_id: string;
  kind: string;
  ciphertext: string;
  hint: string;
  verify_status: string;
  verify_message: string | null;
  verified_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ProjectTable {
  id: string;
  user_id: string;
  name: string;
  slug: string;
  agent: string;
  model: string | null;
  /** Who serves the agent's model: null = the agent's own vendor, or "openai-compatible". */
  model_provider: string | null;
  status: string;
  git_provider: string;
  db_provider: string;
  sandbox_provider: string;
  blob_provider: string;
  deploy_provider: string;
  repo_full_name: string | null;
  repo_url: string | null;
  default_branch: string | null;
  db_root_id: string | null;
  db_root_name: string | null;
  deploy_url: string | null;
  budget_tokens: number | null;
  budget_usd_micros: number | null;
  /** How many of each task's newest checkpoints keep their database branch; null: KILN_BRANCH_RETENTION. */
  branch_retention: number | null;
  /** An imported project's origin (migrations/0006): "git" (a URL or an allowed local path) or "github"; null: the template. */
  source_kind: string | null;
  /** The git URL, local path or GitHub "owner/name" it was imported from; never a credential. */
  source_location: string | null;
  /** The commit that was checked and becomes the repository's first commit. */
  source_sha: string | null;
  /** The checkpoint served at the project's stable URL (migrations/0010); null: unpublished. */
  published_revision_id: string | null;
  /** Where it is served: the preview proxy's project host (local) or the deployer's alias (Vercel). */
  published_url: string | null;
  published_at: number | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
}

export interface TaskTable {
  id: string;
  project_id: string;
  title: string;
  branch: string;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface RevisionTable {
  id: string;
  project_id: string;
  task_id: string;
  ordinal: number;
  kind: string;
  prompt: string;
  agent: string;
  model: string | null;
  /** As on the project, for this checkpoint (a follow-up may pick another). */
  model_provider: string | null;
  parent_revision_id: string | null;
  restored_from_revision_id: string | null;
  status: string;
  step: string | null;
  error_code: string | null;
  error_message: string | null;
  plan: string | null;
  commit_sha: string | null;
  /** The commit this checkpoint was built on (its diff is against it); null until provisioned. */
  base_sha: string | null;
  db_branch_id: string | null;
  sandbox_id: string | null;
  preview_url: string | null;
  deploy_url: string | null;
  /** The deployer's id of this checkpoint's deployment (local ones are removed when a newer one is ready). */
  deployment_id: string | null;
  screenshot_key: string | null;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cached_tokens: Generated<number>;
  cost_usd_micros: Generated<number>;
  /** 1 when some of its usage was estimated (an upstream that reports none). */
  usage_estimated: Generated<number>;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
  /** The app server carrying the revision on, until `lease_expires_at` (docs/pipeline.md "Durability"). */
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** The last runner event (by seq) whose effect is applied; later ones are still to apply, in order. */
  advanced_seq: number | null;
  /**
   * Blob key of the checkpoint's verified build output (`next build`'s `.next`, packed by the runner), keyed by
   * project and tree; a restore shares its target's. Null: none stored (an older checkpoint), deploys build it.
   */
  build_key: string | null;
}

export interface DbBranchTable {
  id: string;
  project_id: string;
  provider: string;
  external_id: string;
  name: string;
  parent_branch_id: string | null;
  status: string;
  connection_ciphertext: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface SandboxTable {
  id: string;
  project_id: string;
  provider: string;
  external_id: string | null;
  status: string;
  webhook_secret_ciphertext: string;
  preview_url: string | null;
  last_event_at: number | null;
  created_at: number;
  updated_at: number;
  stopped_at: number | null;
  /** The app server whose process tree hosts this sandbox when it dies with that server (local); else null. */
  server_id: string | null;
}

export interface SessionTable {
  id: string;
  slug: string;
  project_id: string;
  task_id: string;
  revoked_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface EventTable {
  id: Generated<number>;
  project_id: string;
  task_id: string;
  revision_id: string | null;
  sandbox_id: string | null;
  event_id: string;
  seq: number;
  type: string;
  payload: string;
  created_at: number;
}

export interface UsageTable {
  id: string;
  project_id: string;
  revision_id: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_usd_micros: number;
  /** 1 when the tokens are Kiln's estimate, not the upstream's figures. */
  estimated: Generated<number>;
  created_at: number;
}

/** A periodic job's turn: one app server per tick runs it (docs/pipeline.md "Durability"). */
export interface JobLeaseTable {
  name: string;
  owner: string;
  expires_at: number;
}

/** A project's app environment variable; the value is encrypted whether secret or not (`is_secret` is 0 or 1). */
export interface AppEnvTable {
  project_id: string;
  name: string;
  is_secret: number;
  value_ciphertext: string;
  created_at: number;
  updated_at: number;
}

/** Admin actions and credential changes: who, what, when, from where. `detail` is JSON and never holds a secret. */
export interface AuditEventTable {
  id: Generated<number>;
  actor_user_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  detail: string;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
}

/** A one-time link that sets an operator's password (invite or reset); only the token's hash is kept. */
export interface OperatorInviteTable {
  id: string;
  user_id: string;
  token_hash: string;
  expires_at: number;
  used_at: number | null;
  created_by: string | null;
  created_at: number;
}

/**
 * An operator's quota overrides (migrations/0008_quotas_pause.ts): null = the platform default (KILN_QUOTA_*),
 * -1 = no limit for this operator (NO_LIMIT in governance/quota-limits.ts).
 */
export interface OperatorQuotaTable {
  user_id: string;
  builds_per_day: number | null;
  concurrent_runs: number | null;
  tokens_per_month: number | null;
  usd_per_month_micros: number | null;
  updated_at: number;
}

/** The platform-wide pause: at most one row (id "platform"); present = all agent work is paused. */
export interface PlatformPauseTable {
  id: string;
  reason: string;
  paused_by: string | null;
  paused_at: number;
}

export interface DB {
  user: UserTable;
  auth_session: AuthSessionTable;
  rate_limit: RateLimitTable;
  api_token: ApiTokenTable;
  credential: CredentialTable;
  project: ProjectTable;
  task: TaskTable;
  revision: RevisionTable;
  db_branch: DbBranchTable;
  sandbox: SandboxTable;
  session: SessionTable;
  event: EventTable;
  usage: UsageTable;
  job_lease: JobLeaseTable;
  app_env: AppEnvTable;
  audit_event: AuditEventTable;
  operator_invite: OperatorInviteTable;
  operator_quota: OperatorQuotaTable;
  platform_pause: PlatformPauseTable;
}

/** Column names per table, for the schema/migration consistency test. `satisfies` ties it to `DB`. */
export const schemaColumns = {
  user: [
    "id",
    "email",
    "name",
    "password_hash",
    "password_changed_at",
    "default_agent",
    "default_model_provider",
    "default_model",
    "role",
    "disabled_at",
    "created_at",
    "updated_at",
  ],
  auth_session: [
    "id",
    "user_id",
    "created_at",
    "expires_at",
    "last_seen_at",
    "revoked_at",
    "ip",
    "user_agent",
  ],
  rate_limit: ["bucket", "hits", "window_started_at"],
  api_token: [
    "id",
    "user_id",
    "name",
    "token_hash",
    "display_prefix",
    "created_at",
    "last_used_at",
    "revoked_at",
  ],
  credential: [
    "id",
    "user_id",
    "kind",
    "ciphertext",
    "hint",
    "verify_status",
    "verify_message",
    "verified_at",
    "created_at",
    "updated_at",
  ],
  project: [
    "id",
    "user_id",
    "name",
    "slug",
    "agent",
    "model",
    "model_provider",
    "status",
    "git_provider",
    "db_provider",
    "sandbox_provider",
    "blob_provider",
    "deploy_provider",
    "repo_full_name",
    "repo_url",
    "default_branch",
    "db_root_id",
    "db_root_name",
    "deploy_url",
    "budget_tokens",
    "budget_usd_micros",
    "branch_retention",
    "source_kind",
    "source_location",
    "source_sha",
    "published_revision_id",
    "published_url",
    "published_at",
    "created_at",
    "updated_at",
    "last_activity_at",
  ],
  task: ["id", "project_id", "title", "branch", "status", "created_at", "updated_at"],
  revision: [
    "id",
    "project_id",
    "task_id",
    "ordinal",
    "kind",
    "prompt",
    "agent",
    "model",
    "model_provider",
    "parent_revision_id",
    "restored_from_revision_id",
    "status",
    "step",
    "error_code",
    "error_message",
    "plan",
    "commit_sha",
    "base_sha",
    "db_branch_id",
    "sandbox_id",
    "preview_url",
    "deploy_url",
    "deployment_id",
    "screenshot_key",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_usd_micros",
    "usage_estimated",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "lease_owner",
    "lease_expires_at",
    "advanced_seq",
    "build_key",
  ],
  db_branch: [
    "id",
    "project_id",
    "provider",
    "external_id",
    "name",
    "parent_branch_id",
    "status",
    "connection_ciphertext",
    "created_at",
    "updated_at",
    "deleted_at",
  ],
  sandbox: [
    "id",
    "project_id",
    "provider",
    "external_id",
    "status",
    "webhook_secret_ciphertext",
    "preview_url",
    "last_event_at",
    "created_at",
    "updated_at",
    "stopped_at",
    "server_id",
  ],
  session: ["id", "slug", "project_id", "task_id", "revoked_at", "created_at", "updated_at"],
  event: [
    "id",
    "project_id",
    "task_id",
    "revision_id",
    "sandbox_id",
    "event_id",
    "seq",
    "type",
    "payload",
    "created_at",
  ],
  usage: [
    "id",
    "project_id",
    "revision_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_usd_micros",
    "estimated",
    "created_at",
  ],
  job_lease: ["name", "owner", "expires_at"],
  app_env: ["project_id", "name", "is_secret", "value_ciphertext", "created_at", "updated_at"],
  audit_event: [
    "id",
    "actor_user_id",
    "action",
    "target_type",
    "target_id",
    "detail",
    "ip",
    "user_agent",
    "created_at",
  ],
  operator_invite: ["id", "user_id", "token_hash", "expires_at", "used_at", "created_by", "created_at"],
  operator_quota: [
    "user_id",
    "builds_per_day",
    "concurrent_runs",
    "tokens_per_month",
    "usd_per_month_micros",
    "updated_at",
  ],
  platform_pause: ["id", "reason", "paused_by", "paused_at"],
} satisfies { [T in keyof DB]: ReadonlyArray<keyof DB[T] & string> };

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type Project = Selectable<ProjectTable>;
export type NewProject = Insertable<ProjectTable>;
export type ProjectUpdate = Updateable<ProjectTable>;
export type Task = Selectable<TaskTable>;
export type Revision = Selectable<RevisionTable>;
export type NewRevision = Insertable<RevisionTable>;
export type Credential = Selectable<CredentialTable>;
export type ApiToken = Selectable<ApiTokenTable>;
export type Session = Selectable<SessionTable>;
export type AppEnvRow = Selectable<AppEnvTable>;
export type AuditEvent = Selectable<AuditEventTable>;
export type OperatorInvite = Selectable<OperatorInviteTable>;

// Compile-time guard: every column of every table is listed in `schemaColumns`.
type UnlistedColumns = {
  [T in keyof DB]: Exclude<keyof DB[T], (typeof schemaColumns)[T][number]>;
}[keyof DB];
export const everyColumnListed: [UnlistedColumns] extends [never] ? true : UnlistedColumns = true;
