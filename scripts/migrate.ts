import { resolveDatabaseTarget } from "../src/server/db/connection";
import { createDatabaseIfMissing } from "../src/server/db/create-database";
import { migrateDown, migrateToLatest, migrationStatus } from "../src/server/db/migrator";
import { fail, loadScriptEnv, parseArgs, withDatabase } from "./lib/context";

const usage = "Usage: npm run migrate -- <up|down|status|init>";

async function main() {
  const { _ } = parseArgs(process.argv.slice(2));
  const command = _[0] ?? "up";
  const env = loadScriptEnv();
  const target = resolveDatabaseTarget(env.DATABASE_URL, env.dataDir);
  const where = target.dialect === "mysql" ? "MySQL-compatible server (DATABASE_URL)" : target.url;

  if (command === "init") {
    await createDatabaseIfMissing(target);
    const applied = await withDatabase(env, (db) => migrateToLatest(db));
    console.log(
      `Database ready at ${where}. Applied: ${applied.length ? applied.join(", ") : "nothing (up to date)"}`,
    );
    return;
  }
  if (command === "up") {
    const applied = await withDatabase(env, (db) => migrateToLatest(db));
    console.log(applied.length ? `Applied: ${applied.join(", ")}` : "Already up to date.");
    return;
  }
  if (command === "down") {
    const undone = await withDatabase(env, (db) => migrateDown(db));
    console.log(undone.length ? `Rolled back: ${undone.join(", ")}` : "Nothing to roll back.");
    return;
  }
  if (command === "status") {
    const status = await withDatabase(env, (db) => migrationStatus(db));
    console.log(`Database: ${where}`);
    for (const m of status) {
      console.log(
        `  ${m.executedAt ? "✔" : "·"} ${m.name}${m.executedAt ? `  (${m.executedAt.toISOString()})` : "  pending"}`,
      );
    }
    return;
  }
  fail(`Unknown command "${command}". ${usage}`);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
