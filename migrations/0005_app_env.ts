import type { Migration } from "kysely";
import { type AnyDb, ID, longText, TIME } from "./helpers";

// A project's app environment variables (docs/security.md "App environment"): the generated app's preview,
// migrations, build and deployments get them; the coding agent does not. Every value is stored encrypted (AES-256-GCM
// bound to the project and the name), secret or not, so a database dump holds no plaintext setting. `is_secret` (0/1)
// only decides whether the value is ever shown back and whether it is redacted from events and logs.
export const appEnv: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("app_env")
      .addColumn("project_id", ID, (c) => c.notNull())
      .addColumn("name", "varchar(100)", (c) => c.notNull())
      .addColumn("is_secret", "integer", (c) => c.notNull())
      .addColumn("value_ciphertext", longText(db), (c) => c.notNull())
      .addColumn("created_at", TIME, (c) => c.notNull())
      .addColumn("updated_at", TIME, (c) => c.notNull())
      .addPrimaryKeyConstraint("app_env_pk", ["project_id", "name"])
      .addForeignKeyConstraint("app_env_project_fk", ["project_id"], "project", ["id"])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("app_env").ifExists().execute();
  },
};
