import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Connection, createConnection } from "mysql2/promise";
import { type Database, openDatabase } from "../../src/server/db/connection";
import { migrateToLatest } from "../../src/server/db/migrator";

export type TestDatabase = { name: "libsql" | "mysql"; db: Database; drop(): Promise<void> };
export type DatabaseFactory = {
  name: "libsql" | "mysql";
  open(options?: { migrate?: boolean }): Promise<TestDatabase>;
};

const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;

async function openLibsql(migrate: boolean): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-test-"));
  const file = path.join(dir, "kiln.db");
  const db = await openDatabase({ dialect: "sqlite", url: `file:${file}`, file });
  if (migrate) await migrateToLatest(db);
  return {
    name: "libsql",
    db,
    async drop() {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type ThrowawayMysqlDatabase = { name: string; url: string; admin: Connection; drop(): Promise<void> };

/** A new, empty database on a MySQL server (given by an admin URL), with the admin connection that drops it. */
export async function createThrowawayMysqlDatabase(
  serverUrl: string,
  prefix: string,
): Promise<ThrowawayMysqlDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const server = new URL(serverUrl);
  const admin = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  server.pathname = `/${name}`;
  return {
    name,
    url: server.toString(),
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

/** A throwaway database on the MySQL server named by KILN_TEST_MYSQL_URL, dropped afterwards. */
async function openMysql(url: string, migrate: boolean): Promise<TestDatabase> {
  const throwaway = await createThrowawayMysqlDatabase(url, "kiln_test");
  const db = await openDatabase({ dialect: "mysql", url: throwaway.url });
  if (migrate) await migrateToLatest(db);
  return {
    name: "mysql",
    db,
    async drop() {
      await db.destroy();
      await throwaway.drop();
    },
  };
}

/**
 * The dialects every integration test runs on: libSQL always, MySQL when KILN_TEST_MYSQL_URL is set (CI always
 * sets it). Use with `describe.each(testDatabases)`.
 */
export const testDatabases: DatabaseFactory[] = [
  { name: "libsql", open: (options) => openLibsql(options?.migrate ?? true) },
  ...(mysqlUrl
    ? [
        {
          name: "mysql" as const,
          open: (options?: { migrate?: boolean }) => openMysql(mysqlUrl, options?.migrate ?? true),
        },
      ]
    : []),
];
