import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Kysely, type Migration, type MigrationResultSet, Migrator } from "kysely";

/** `20260101000000_create_todos.ts`: a UTC timestamp (YYYYMMDDHHmmss), an underscore, a snake_case name. */
export const MIGRATION_FILE = /^(\d{14})_([a-z0-9_]+)\.ts$/;

export type MigrationState = { name: string; executedAt: Date | null };

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** What a migration file exports: schema code that works on any database, hence `Kysely<unknown>`. */
type MigrationStep = (db: Kysely<unknown>) => Promise<void>;

function isMigrationStep(value: unknown): value is MigrationStep {
  return typeof value === "function";
}

/**
 * Every migration in `folder`, by name. Each file must match MIGRATION_FILE and export `up` and `down`; a file that
 * doesn't is an error rather than being skipped, so a typo can never silently leave a migration out.
 */
export async function loadMigrations(folder: string): Promise<Record<string, Migration>> {
  const files = (await fs.readdir(folder)).filter((file) => /\.(ts|js|mjs|cjs|mts|cts)$/.test(file)).sort();
  const migrations: Record<string, Migration> = {};
  for (const file of files) {
    if (!MIGRATION_FILE.test(file)) {
      throw new MigrationError(
        `migrations/${file}: name it like 20260101000000_create_todos.ts (UTC timestamp, underscore, snake_case)`,
      );
    }
    const module: Record<string, unknown> = await import(pathToFileURL(path.join(folder, file)).href);
    const { up, down } = module;
    if (!isMigrationStep(up) || !isMigrationStep(down)) {
      throw new MigrationError(`migrations/${file}: export both async functions up(db) and down(db)`);
    }
    migrations[file.replace(/\.ts$/, "")] = { up, down };
  }
  return migrations;
}

function migrator<DB>(db: Kysely<DB>, migrations: Record<string, Migration>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Names of the migrations that ran, or a MigrationError naming the one that failed and why. */
function unwrap(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error");
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    const prefix = failed ? `migration ${failed.migrationName} failed: ` : "";
    throw new MigrationError(`${prefix}${reason}`, { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export async function migrateUp<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  return unwrap(await migrator(db, migrations).migrateToLatest());
}

/** Undoes the most recent applied migration only. */
export async function migrateDown<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  return unwrap(await migrator(db, migrations).migrateDown());
}

export async function migrationStates<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<MigrationState[]> {
  const all = await migrator(db, migrations).getMigrations();
  return all.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
