import type { Kysely, Migration } from "kysely";
import { TIME } from "./helpers";

// Durable work (docs/pipeline.md "Durability"): a revision is carried on by whichever app server holds its lease;
// the runner's events are applied in order up to `advanced_seq`; periodic jobs run once per cluster per tick, and
// app servers announce themselves there too, so a sandbox that died with its server is known to be gone.
export const leases: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("revision").addColumn("lease_owner", "varchar(64)").execute();
    await db.schema.alterTable("revision").addColumn("lease_expires_at", TIME).execute();
    await db.schema.alterTable("revision").addColumn("advanced_seq", "bigint").execute();
    // The app server whose process tree hosts a sandbox that dies with it (a local one); null for cloud sandboxes.
    await db.schema.alterTable("sandbox").addColumn("server_id", "varchar(64)").execute();
    await db.schema
      .createTable("job_lease")
      .addColumn("name", "varchar(64)", (c) => c.primaryKey())
      .addColumn("owner", "varchar(64)", (c) => c.notNull())
      .addColumn("expires_at", TIME, (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("job_lease").execute();
    await db.schema.alterTable("sandbox").dropColumn("server_id").execute();
    await db.schema.alterTable("revision").dropColumn("advanced_seq").execute();
    await db.schema.alterTable("revision").dropColumn("lease_expires_at").execute();
    await db.schema.alterTable("revision").dropColumn("lease_owner").execute();
  },
};
