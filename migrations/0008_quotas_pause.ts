import type { Kysely, Migration } from "kysely";
import { ID, TIME } from "./helpers";

// Quotas per operator and the platform-wide pause (README "Quotas, budgets and the kill switch").
// operator_quota: one row per operator with overrides. A null column means "the platform default" (KILN_QUOTA_*);
// -1 means "no limit for this operator", whatever the default. platform_pause: at most one row (id "platform");
// its presence means all agent work is paused. Every app server reads it (through a short cache), so a pause
// reaches the whole cluster through the one thing servers share.
export const quotasPause: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("operator_quota")
      .addColumn("user_id", ID, (c) => c.primaryKey())
      .addColumn("builds_per_day", "bigint")
      .addColumn("concurrent_runs", "bigint")
      .addColumn("tokens_per_month", "bigint")
      .addColumn("usd_per_month_micros", "bigint")
      .addColumn("updated_at", TIME, (c) => c.notNull())
      .addForeignKeyConstraint("operator_quota_user_fk", ["user_id"], "user", ["id"])
      .execute();
    await db.schema
      .createTable("platform_pause")
      .addColumn("id", "varchar(20)", (c) => c.primaryKey())
      .addColumn("reason", "varchar(500)", (c) => c.notNull())
      .addColumn("paused_by", ID)
      .addColumn("paused_at", TIME, (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("platform_pause").execute();
    await db.schema.dropTable("operator_quota").execute();
  },
};
