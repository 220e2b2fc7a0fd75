import { afterEach, describe, expect, it } from "vitest";
import { migrateAllDown, migrateToLatest, migrationStatus } from "../../src/server/db/migrator";
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
      "0006_project_source",
    ]);
    expect(await tableNames(current)).toEqual(appTables);

    // Down runs newest first.
    expect(await migrateAllDown(current.db)).toEqual([
      "0006_project_source",
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

  it("is a no-op when already up to date", async () => {
    current = await factory.open();
    expect(await migrateToLatest(current.db)).toEqual([]);
  });
});
