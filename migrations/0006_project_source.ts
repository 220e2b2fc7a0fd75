import type { Kysely, Migration } from "kysely";

// Importing a repository as a project (docs/import.md): where the project's first commit came from, so provisioning
// creates its repository from that tree instead of the template, and the UI can say "Imported from …". All null for
// projects made from the template. The location never holds a credential (URLs with user info are refused).
export const projectSource: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("project").addColumn("source_kind", "varchar(16)").execute();
    await db.schema.alterTable("project").addColumn("source_location", "varchar(2048)").execute();
    await db.schema.alterTable("project").addColumn("source_sha", "varchar(64)").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("project").dropColumn("source_sha").execute();
    await db.schema.alterTable("project").dropColumn("source_location").execute();
    await db.schema.alterTable("project").dropColumn("source_kind").execute();
  },
};
