import { migrations } from "@migrations/index";
import { type Kysely, type MigrationResultSet, Migrator } from "kysely";

export type MigrationStatus = { name: string; executedAt: Date | null };

// Migrations are schema-only code: they take any Kysely instance, typed or not.
function migrator<T>(db: Kysely<T>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "kiln_migration",
    migrationLockTableName: "kiln_migration_lock",
  });
}

function unwrap(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error");
    const prefix = failed ? `Migration ${failed.migrationName} failed: ` : "Migration failed: ";
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(prefix + reason, { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export async function migrateToLatest<T>(db: Kysely<T>): Promise<string[]> {
  return unwrap(await migrator(db).migrateToLatest());
}

export async function migrateDown<T>(db: Kysely<T>): Promise<string[]> {
  return unwrap(await migrator(db).migrateDown());
}

export async function migrateAllDown<T>(db: Kysely<T>): Promise<string[]> {
  const undone: string[] = [];
  for (let i = 0; i < Object.keys(migrations).length; i++) {
    const step = unwrap(await migrator(db).migrateDown());
    if (step.length === 0) break;
    undone.push(...step);
  }
  return undone;
}

export async function migrationStatus<T>(db: Kysely<T>): Promise<MigrationStatus[]> {
  const all = await migrator(db).getMigrations();
  return all.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
