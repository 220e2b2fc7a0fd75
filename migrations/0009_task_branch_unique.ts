import type { Kysely, Migration } from "kysely";
import { isMysql } from "./helpers";

// Several tasks per project (docs/pipeline.md "Tasks"): each is a git branch of the project's repository, so two
// tasks of one project never share a branch name, even when two requests pick a name at the same moment.
export const taskBranchUnique: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex("task_project_branch_uq")
      .on("task")
      .columns(["project_id", "branch"])
      .unique()
      .execute();
  },
  async down(db: Kysely<unknown>) {
    // MySQL names the table of the index; SQLite's DROP INDEX takes none.
    const drop = db.schema.dropIndex("task_project_branch_uq");
    await (isMysql(db) ? drop.on("task") : drop).execute();
  },
};
