import fs from "node:fs";
import { createConnection } from "mysql2/promise";
import { mysqlPoolOptions } from "../src/server/db/connection";
import { fail, loadScriptEnv } from "./lib/context";
import { discardDevOutput } from "./lib/fresh-dev-output";
import { prepareRuntime } from "./lib/prepare-runtime";
import { runNext } from "./lib/run-next";

// The server Playwright tests run against: a fresh data dir (and, on a MySQL leg, a fresh database) with a known
// first operator; a production build (`next start`), or `next dev` with --dev. Its settings come from
// playwright.config.ts (webServer.env). Everything it prints is also written to KILN_E2E_SERVER_LOG.

/** A MySQL leg starts from an empty database, as a new install would. */
async function dropDatabase(url: string): Promise<void> {
  const { database, ...options } = mysqlPoolOptions(url);
  if (!database || !/^kiln_e2e_\w+$/.test(database))
    fail(`refusing to drop "${database}": not an e2e database`);
  const connection = await createConnection({ host: options.host, port: options.port, user: options.user });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await connection.end();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const dev = args.includes("--dev");
  const env = loadScriptEnv(dev);
  fs.rmSync(env.dataDir, { recursive: true, force: true });
  if (process.env.KILN_E2E_SERVER_LOG) fs.rmSync(process.env.KILN_E2E_SERVER_LOG, { force: true });
  if (env.DATABASE_URL?.startsWith("mysql:")) await dropDatabase(env.DATABASE_URL);
  await prepareRuntime(env);
  if (dev) discardDevOutput();
  const nextArgs = args.filter((arg) => arg !== "--dev");
  runNext([dev ? "dev" : "start", ...nextArgs], { logFile: process.env.KILN_E2E_SERVER_LOG });
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
