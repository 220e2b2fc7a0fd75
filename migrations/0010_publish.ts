import type { Kysely, Migration } from "kysely";

// Publishing (docs/pipeline.md "Publishing"): a project serves one checkpoint of its main task at a stable URL. The
// project row says which checkpoint, since when, and at which URL (the preview proxy's project host for the local
// deployer, a Vercel alias for Vercel); all null while unpublished. The published checkpoint's deployment is kept
// when newer checkpoints deploy (steps/deploy.ts).
export const publish: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("project").addColumn("published_revision_id", "varchar(40)").execute();
    await db.schema.alterTable("project").addColumn("published_url", "varchar(2048)").execute();
    await db.schema.alterTable("project").addColumn("published_at", "bigint").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("project").dropColumn("published_at").execute();
    await db.schema.alterTable("project").dropColumn("published_url").execute();
    await db.schema.alterTable("project").dropColumn("published_revision_id").execute();
  },
};
