import type { Kysely, Migration } from "kysely";

// Any model for both agents (docs/models.md): a project and each revision record which model provider serves its
// agent (null: the agent's own vendor, as before), and a usage row says when its tokens were estimated because the
// upstream reported none.
export const modelProvider: Migration = {
  async up(db: Kysely<unknown>) {
    // What an operator's new projects use when the request names none (Settings).
    await db.schema.alterTable("user").addColumn("default_agent", "varchar(32)").execute();
    await db.schema.alterTable("user").addColumn("default_model_provider", "varchar(32)").execute();
    await db.schema.alterTable("user").addColumn("default_model", "varchar(100)").execute();
    await db.schema.alterTable("project").addColumn("model_provider", "varchar(32)").execute();
    await db.schema.alterTable("revision").addColumn("model_provider", "varchar(32)").execute();
    await db.schema
      .alterTable("usage")
      .addColumn("estimated", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable("revision")
      .addColumn("usage_estimated", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("revision").dropColumn("usage_estimated").execute();
    await db.schema.alterTable("usage").dropColumn("estimated").execute();
    await db.schema.alterTable("revision").dropColumn("model_provider").execute();
    await db.schema.alterTable("project").dropColumn("model_provider").execute();
    await db.schema.alterTable("user").dropColumn("default_model").execute();
    await db.schema.alterTable("user").dropColumn("default_model_provider").execute();
    await db.schema.alterTable("user").dropColumn("default_agent").execute();
  },
};
