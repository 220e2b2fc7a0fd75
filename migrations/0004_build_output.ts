import type { Kysely, Migration } from "kysely";

// Deploy and restore reuse the verified build (docs/pipeline.md "Build output"): the blob key of the checkpoint's
// packed `next build` output, keyed by project and tree, so a restore (the same tree) points at its target's.
// Null for checkpoints built before this, which deploy by building as they always did.
export const buildOutput: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("revision").addColumn("build_key", "varchar(300)").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("revision").dropColumn("build_key").execute();
  },
};
