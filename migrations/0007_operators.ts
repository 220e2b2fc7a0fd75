import { type Kysely, type Migration, sql } from "kysely";
import { bigSerial, ID, longText, TIME } from "./helpers";

// Administrators (issue 11): an operator is an "admin" or an "operator"; an admin may disable one (disabled_at),
// which ends their sessions and tokens at once but keeps their projects. Admin actions and credential changes are
// kept in audit_event; operator_invite holds one-time links that set a password (only their hash is stored).
export const operators: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("user")
      .addColumn("role", "varchar(16)", (c) => c.notNull().defaultTo("operator"))
      .execute();
    await db.schema.alterTable("user").addColumn("disabled_at", TIME).execute();

    // The first operator is an admin: on an existing install, the oldest account.
    const oldest = await sql<{
      id: string;
    }>`select id from ${sql.table("user")} order by created_at, id limit 1`.execute(db);
    const first = oldest.rows[0];
    if (first) await sql`update ${sql.table("user")} set role = 'admin' where id = ${first.id}`.execute(db);

    await db.schema
      .createTable("audit_event")
      // Auto-increment: entries of the same millisecond still page in the order they were written.
      .addColumn("id", bigSerial(db), (c) => c.primaryKey().autoIncrement())
      .addColumn("actor_user_id", ID)
      .addColumn("action", "varchar(64)", (c) => c.notNull())
      .addColumn("target_type", "varchar(32)")
      .addColumn("target_id", "varchar(64)")
      .addColumn("detail", longText(db), (c) => c.notNull())
      .addColumn("ip", "varchar(64)")
      .addColumn("user_agent", "varchar(300)")
      .addColumn("created_at", TIME, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("audit_event_created_idx")
      .on("audit_event")
      .columns(["created_at", "id"])
      .execute();

    await db.schema
      .createTable("operator_invite")
      .addColumn("id", ID, (c) => c.primaryKey())
      .addColumn("user_id", ID, (c) => c.notNull())
      .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
      .addColumn("expires_at", TIME, (c) => c.notNull())
      .addColumn("used_at", TIME)
      .addColumn("created_by", ID)
      .addColumn("created_at", TIME, (c) => c.notNull())
      .addForeignKeyConstraint("operator_invite_user_fk", ["user_id"], "user", ["id"])
      .execute();
    await db.schema.createIndex("operator_invite_user_idx").on("operator_invite").column("user_id").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("operator_invite").execute();
    await db.schema.dropTable("audit_event").execute();
    await db.schema.alterTable("user").dropColumn("disabled_at").execute();
    await db.schema.alterTable("user").dropColumn("role").execute();
  },
};
