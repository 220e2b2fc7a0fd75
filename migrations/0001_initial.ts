import type { Migration } from "kysely";
import { type AnyDb, bigSerial, ID, longText, TIME } from "./helpers";

// The whole domain model of ARCHITECTURE.md. Foreign keys are declared for the servers that enforce them
// (MySQL, TiDB); the application deletes children before parents so it never depends on cascades.

async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable("user")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("email", "varchar(254)", (c) => c.notNull().unique())
    .addColumn("name", "varchar(120)")
    .addColumn("password_hash", "varchar(100)", (c) => c.notNull())
    .addColumn("password_changed_at", TIME, (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("auth_session")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("user_id", ID, (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("expires_at", TIME, (c) => c.notNull())
    .addColumn("last_seen_at", TIME, (c) => c.notNull())
    .addColumn("revoked_at", TIME)
    .addColumn("ip", "varchar(64)")
    .addColumn("user_agent", "varchar(300)")
    .addForeignKeyConstraint("auth_session_user_fk", ["user_id"], "user", ["id"])
    .execute();
  await db.schema.createIndex("auth_session_user_idx").on("auth_session").column("user_id").execute();
  await db.schema.createIndex("auth_session_expires_idx").on("auth_session").column("expires_at").execute();

  await db.schema
    .createTable("rate_limit")
    .addColumn("bucket", "varchar(200)", (c) => c.primaryKey())
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("window_started_at", TIME, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_token")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("user_id", ID, (c) => c.notNull())
    .addColumn("name", "varchar(100)", (c) => c.notNull())
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("display_prefix", "varchar(20)", (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("last_used_at", TIME)
    .addColumn("revoked_at", TIME)
    .addForeignKeyConstraint("api_token_user_fk", ["user_id"], "user", ["id"])
    .execute();
  await db.schema.createIndex("api_token_user_idx").on("api_token").column("user_id").execute();

  await db.schema
    .createTable("credential")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("user_id", ID, (c) => c.notNull())
    .addColumn("kind", "varchar(32)", (c) => c.notNull())
    .addColumn("ciphertext", longText(db), (c) => c.notNull())
    .addColumn("hint", "varchar(16)", (c) => c.notNull())
    .addColumn("verify_status", "varchar(16)", (c) => c.notNull())
    .addColumn("verify_message", "varchar(500)")
    .addColumn("verified_at", TIME)
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addForeignKeyConstraint("credential_user_fk", ["user_id"], "user", ["id"])
    .addUniqueConstraint("credential_user_kind_uq", ["user_id", "kind"])
    .execute();

  await db.schema
    .createTable("project")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("user_id", ID, (c) => c.notNull())
    .addColumn("name", "varchar(120)", (c) => c.notNull())
    .addColumn("slug", "varchar(80)", (c) => c.notNull())
    .addColumn("agent", "varchar(32)", (c) => c.notNull())
    .addColumn("model", "varchar(100)")
    .addColumn("status", "varchar(24)", (c) => c.notNull())
    .addColumn("git_provider", "varchar(24)", (c) => c.notNull())
    .addColumn("db_provider", "varchar(24)", (c) => c.notNull())
    .addColumn("sandbox_provider", "varchar(24)", (c) => c.notNull())
    .addColumn("blob_provider", "varchar(24)", (c) => c.notNull())
    .addColumn("deploy_provider", "varchar(24)", (c) => c.notNull())
    .addColumn("repo_full_name", "varchar(200)")
    .addColumn("repo_url", "varchar(500)")
    .addColumn("default_branch", "varchar(100)")
    .addColumn("db_root_id", "varchar(200)")
    .addColumn("db_root_name", "varchar(200)")
    .addColumn("deploy_url", "varchar(500)")
    .addColumn("budget_tokens", "bigint")
    .addColumn("budget_usd_micros", "bigint")
    .addColumn("branch_retention", "integer")
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addColumn("last_activity_at", TIME, (c) => c.notNull())
    .addForeignKeyConstraint("project_user_fk", ["user_id"], "user", ["id"])
    .addUniqueConstraint("project_user_slug_uq", ["user_id", "slug"])
    .execute();
  await db.schema
    .createIndex("project_user_activity_idx")
    .on("project")
    .columns(["user_id", "last_activity_at"])
    .execute();

  await db.schema
    .createTable("task")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("title", "varchar(200)", (c) => c.notNull())
    .addColumn("branch", "varchar(200)", (c) => c.notNull())
    .addColumn("status", "varchar(24)", (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addForeignKeyConstraint("task_project_fk", ["project_id"], "project", ["id"])
    .execute();
  await db.schema.createIndex("task_project_idx").on("task").columns(["project_id", "created_at"]).execute();

  await db.schema
    .createTable("db_branch")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("provider", "varchar(24)", (c) => c.notNull())
    .addColumn("external_id", "varchar(200)", (c) => c.notNull())
    .addColumn("name", "varchar(200)", (c) => c.notNull())
    .addColumn("parent_branch_id", ID)
    .addColumn("status", "varchar(24)", (c) => c.notNull())
    .addColumn("connection_ciphertext", longText(db))
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addColumn("deleted_at", TIME)
    .addForeignKeyConstraint("db_branch_project_fk", ["project_id"], "project", ["id"])
    .execute();
  await db.schema.createIndex("db_branch_project_idx").on("db_branch").column("project_id").execute();

  await db.schema
    .createTable("sandbox")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("provider", "varchar(24)", (c) => c.notNull())
    .addColumn("external_id", "varchar(200)")
    .addColumn("status", "varchar(24)", (c) => c.notNull())
    .addColumn("webhook_secret_ciphertext", longText(db), (c) => c.notNull())
    .addColumn("preview_url", "varchar(500)")
    .addColumn("last_event_at", TIME)
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addColumn("stopped_at", TIME)
    .addForeignKeyConstraint("sandbox_project_fk", ["project_id"], "project", ["id"])
    .execute();
  await db.schema.createIndex("sandbox_project_idx").on("sandbox").column("project_id").execute();
  await db.schema
    .createIndex("sandbox_status_idx")
    .on("sandbox")
    .columns(["status", "last_event_at"])
    .execute();

  await db.schema
    .createTable("revision")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("task_id", ID, (c) => c.notNull())
    .addColumn("ordinal", "integer", (c) => c.notNull())
    .addColumn("kind", "varchar(16)", (c) => c.notNull())
    .addColumn("prompt", longText(db), (c) => c.notNull())
    .addColumn("agent", "varchar(32)", (c) => c.notNull())
    .addColumn("model", "varchar(100)")
    .addColumn("parent_revision_id", ID)
    .addColumn("restored_from_revision_id", ID)
    .addColumn("status", "varchar(24)", (c) => c.notNull())
    .addColumn("step", "varchar(24)")
    .addColumn("error_code", "varchar(64)")
    .addColumn("error_message", longText(db))
    .addColumn("plan", longText(db))
    .addColumn("commit_sha", "varchar(64)")
    .addColumn("base_sha", "varchar(64)")
    .addColumn("db_branch_id", ID)
    .addColumn("sandbox_id", ID)
    .addColumn("preview_url", "varchar(500)")
    .addColumn("deploy_url", "varchar(500)")
    .addColumn("deployment_id", "varchar(200)")
    .addColumn("screenshot_key", "varchar(300)")
    .addColumn("input_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("output_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cached_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cost_usd_micros", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addColumn("started_at", TIME)
    .addColumn("finished_at", TIME)
    .addColumn("heartbeat_at", TIME)
    .addForeignKeyConstraint("revision_project_fk", ["project_id"], "project", ["id"])
    .addForeignKeyConstraint("revision_task_fk", ["task_id"], "task", ["id"])
    .addUniqueConstraint("revision_task_ordinal_uq", ["task_id", "ordinal"])
    .execute();
  await db.schema.createIndex("revision_project_idx").on("revision").column("project_id").execute();
  // The reconciler scans running revisions by their last sign of life.
  await db.schema
    .createIndex("revision_status_idx")
    .on("revision")
    .columns(["status", "heartbeat_at"])
    .execute();

  await db.schema
    .createTable("session")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("slug", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("task_id", ID, (c) => c.notNull())
    .addColumn("revoked_at", TIME)
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addColumn("updated_at", TIME, (c) => c.notNull())
    .addForeignKeyConstraint("session_project_fk", ["project_id"], "project", ["id"])
    .addForeignKeyConstraint("session_task_fk", ["task_id"], "task", ["id"])
    .execute();
  await db.schema.createIndex("session_task_idx").on("session").column("task_id").execute();

  // Append-only and hot: no foreign keys, so ingestion is one insert per batch.
  await db.schema
    .createTable("event")
    .addColumn("id", bigSerial(db), (c) => c.primaryKey().autoIncrement())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("task_id", ID, (c) => c.notNull())
    .addColumn("revision_id", ID)
    .addColumn("sandbox_id", ID)
    .addColumn("event_id", "varchar(80)", (c) => c.notNull())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("type", "varchar(48)", (c) => c.notNull())
    .addColumn("payload", longText(db), (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .addUniqueConstraint("event_sandbox_event_uq", ["sandbox_id", "event_id"])
    .execute();
  await db.schema.createIndex("event_task_idx").on("event").columns(["task_id", "id"]).execute();
  await db.schema.createIndex("event_revision_seq_idx").on("event").columns(["revision_id", "seq"]).execute();

  await db.schema
    .createTable("usage")
    .addColumn("id", ID, (c) => c.primaryKey())
    .addColumn("project_id", ID, (c) => c.notNull())
    .addColumn("revision_id", ID, (c) => c.notNull())
    .addColumn("provider", "varchar(24)", (c) => c.notNull())
    .addColumn("model", "varchar(100)", (c) => c.notNull())
    .addColumn("input_tokens", "bigint", (c) => c.notNull())
    .addColumn("output_tokens", "bigint", (c) => c.notNull())
    .addColumn("cached_tokens", "bigint", (c) => c.notNull())
    .addColumn("cost_usd_micros", "bigint", (c) => c.notNull())
    .addColumn("created_at", TIME, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("usage_revision_idx").on("usage").column("revision_id").execute();
  await db.schema
    .createIndex("usage_project_idx")
    .on("usage")
    .columns(["project_id", "created_at"])
    .execute();
}

const tablesNewestFirst = [
  "usage",
  "event",
  "session",
  "revision",
  "sandbox",
  "db_branch",
  "task",
  "project",
  "credential",
  "api_token",
  "rate_limit",
  "auth_session",
  "user",
] as const;

async function down(db: AnyDb): Promise<void> {
  for (const table of tablesNewestFirst) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

export const initial: Migration = { up, down };
