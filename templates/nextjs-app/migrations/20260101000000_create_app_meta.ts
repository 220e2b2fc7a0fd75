import type { Kysely } from "kysely";

// An example migration: a small key/value table the app can use for its own settings.
// Applied migrations are history: never edit one, add a new file instead (`npm run migrate -- new <name>`).

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("app_meta")
    // 191 characters keeps a utf8mb4 primary key within every MySQL version's index limit.
    .addColumn("name", "varchar(191)", (col) => col.primaryKey())
    .addColumn("value", "text", (col) => col.notNull())
    .addColumn("updated_at", "varchar(32)", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("app_meta").execute();
}
