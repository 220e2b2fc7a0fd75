import fs from "node:fs";
import path from "node:path";
import { loadEnvConfig } from "@next/env";
import type { Kysely } from "kysely";
import { DatabaseConfigError, parseDatabaseUrl } from "../src/db/config";
import { createDatabase } from "../src/db/create-database";
import { describeDatabaseError, describeDatabaseLocation } from "../src/db/errors";
import { loadMigrations, migrateDown, migrateUp, migrationStates } from "../src/db/migrator";

const USAGE = "usage: npm run migrate -- [up | down | status | new <name>]";
// npm runs scripts from the package root, where migrations/ lives.
const MIGRATIONS_DIR = path.join(process.cwd(), "migrations");

/** A failure the user can act on: printed as one line, without a stack trace. */
class CommandError extends Error {}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

const template = `import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("example")
    .addColumn("id", "integer", (col) => col.primaryKey().autoIncrement())
    .addColumn("name", "varchar(255)", (col) => col.notNull())
    .addColumn("created_at", "varchar(32)", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("example").execute();
}
`;

function createMigrationFile(name: string | undefined): void {
  const slug = (name ?? "")
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!slug)
    throw new CommandError(`name the migration, e.g. npm run migrate -- new create_todos (${USAGE})`);
  const file = path.join(MIGRATIONS_DIR, `${timestamp(new Date())}_${slug}.ts`);
  fs.writeFileSync(file, template, { flag: "wx" });
  console.log(
    `Created ${path.relative(process.cwd(), file)}: write up() and down(), then update src/db/schema.ts.`,
  );
}

async function withDatabase<T>(work: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
  // Fails early with a readable message when DATABASE_URL is missing or malformed.
  parseDatabaseUrl(process.env.DATABASE_URL);
  const { db } = createDatabase<unknown>(process.env.DATABASE_URL);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

async function run(command: string, args: string[]): Promise<void> {
  if (command === "new") return createMigrationFile(args[0]);
  const migrations = await loadMigrations(MIGRATIONS_DIR);
  if (command === "up") {
    const applied = await withDatabase((db) => migrateUp(db, migrations));
    console.log(applied.length > 0 ? `Applied: ${applied.join(", ")}` : "Already up to date.");
    return;
  }
  if (command === "down") {
    const undone = await withDatabase((db) => migrateDown(db, migrations));
    console.log(undone.length > 0 ? `Rolled back: ${undone.join(", ")}` : "Nothing to roll back.");
    return;
  }
  if (command === "status") {
    const states = await withDatabase((db) => migrationStates(db, migrations));
    console.log(`Database: ${describeDatabaseLocation(process.env.DATABASE_URL)}`);
    if (states.length === 0) console.log("  (no migrations)");
    for (const state of states) {
      const when = state.executedAt ? `applied ${state.executedAt.toISOString()}` : "pending";
      console.log(`  ${state.executedAt ? "✔" : "·"} ${state.name}  ${when}`);
    }
    return;
  }
  throw new CommandError(`unknown command "${command}" (${USAGE})`);
}

async function main(): Promise<void> {
  const [command = "up", ...args] = process.argv.slice(2);
  try {
    // Like `next dev`, read .env files for local development; variables already set in the environment win.
    loadEnvConfig(process.cwd(), process.env.NODE_ENV !== "production", {
      info: () => undefined,
      error: console.error,
    });
    await run(command, args);
  } catch (error) {
    const reason = describeDatabaseError(error, process.env.DATABASE_URL);
    const isSetupError = error instanceof CommandError || error instanceof DatabaseConfigError;
    const where = isSetupError ? "" : ` (database: ${describeDatabaseLocation(process.env.DATABASE_URL)})`;
    console.error(`migrate ${command} failed: ${reason}${where}`);
    process.exitCode = 1;
  }
}

void main();
