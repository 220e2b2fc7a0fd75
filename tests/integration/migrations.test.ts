import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { migrateAllDown, migrateDown, migrateToLatest, migrationStatus } from "../../src/server/db/migrator";
import { schemaColumns } from "../../src/server/db/schema";
import { type TestDatabase, testDatabases } from "../helpers/databases";

const appTables = Object.keys(schemaColumns).sort();

async function tableNames(t: TestDatabase): Promise<string[]> {
  const tables = await t.db.introspection.getTables();
  return tables
    .map((table) => table.name)
    .filter((name) => !name.startsWith("kiln_migration"))
    .sort();
}

describe.each(testDatabases)("migrations on $name", (factory) => {
  let current: TestDatabase | undefined;
  afterEach(async () => {
    await current?.drop();
    current = undefined;
  });

  it("go up, all the way down, and up again", async () => {
    current = await factory.open({ migrate: false });
    expect(await tableNames(current)).toEqual([]);

    expect(await migrateToLatest(current.db)).toEqual([
      "0001_initial",
      "0002_leases",
      "0003_model_provider",
      "0004_build_output",
      "0005_app_env",
      "0006_project_source",
      "0007_operators",
      "0008_quotas_pause",
      "0009_task_branch_unique",
      "0010_publish",
    ]);
    expect(await tableNames(current)).toEqual(appTables);

    // Down runs newest first.
    expect(await migrateAllDown(current.db)).toEqual([
      "0010_publish",
      "0009_task_branch_unique",
      "0008_quotas_pause",
      "0007_operators",
      "0006_project_source",
      "0005_app_env",
      "0004_build_output",
      "0003_model_provider",
      "0002_leases",
      "0001_initial",
    ]);
    expect(await tableNames(current)).toEqual([]);

    await migrateToLatest(current.db);
    expect(await tableNames(current)).toEqual(appTables);
    const status = await migrationStatus(current.db);
    expect(status.every((m) => m.executedAt instanceof Date)).toBe(true);
  });

  it("create exactly the columns the typed schema declares", async () => {
    current = await factory.open();
    const tables = await current.db.introspection.getTables();
    for (const [table, columns] of Object.entries(schemaColumns)) {
      const found = tables.find((t) => t.name === table);
      expect(found, `table ${table}`).toBeDefined();
      expect(found?.columns.map((c) => c.name).sort(), `columns of ${table}`).toEqual([...columns].sort());
    }
  });

  it("0007_operators makes the oldest existing operator an admin, and only them", async () => {
    current = await factory.open();
    const { db } = current;
    // Later migrations go down first (0008_quotas_pause has a key to user, but no data this test needs).
    expect(await migrateDown(db)).toEqual(["0010_publish"]);
    expect(await migrateDown(db)).toEqual(["0009_task_branch_unique"]);
    expect(await migrateDown(db)).toEqual(["0008_quotas_pause"]);
    expect(await migrateDown(db)).toEqual(["0007_operators"]);
    // Raw SQL: the typed schema already has columns this older table lacks.
    const insertUser = (id: string, createdAt: number) =>
      sql`insert into ${sql.table("user")} (id, email, name, password_hash, password_changed_at, created_at, updated_at)
          values (${id}, ${`${id}@example.com`}, null, 'x', 0, ${createdAt}, ${createdAt})`.execute(db);
    await insertUser("usr_later", 2000);
    await insertUser("usr_first", 1000);
    expect(await migrateToLatest(db)).toEqual([
      "0007_operators",
      "0008_quotas_pause",
      "0009_task_branch_unique",
      "0010_publish",
    ]);
    const rows = await db.selectFrom("user").select(["id", "role", "disabled_at"]).orderBy("id").execute();
    expect(rows).toEqual([
      { id: "usr_first", role: "admin", disabled_at: null },
      { id: "usr_later", role: "operator", disabled_at: null },
    ]);
  });

  it("is a no-op when already up to date", async () => {
    current = await factory.open();
    expect(await migrateToLatest(current.db)).toEqual([]);
  });
});
