import fs from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import { type Dialect, Kysely, sql, type Transaction } from "kysely";
import { createPool, type PoolOptions } from "mysql2";
import { markDialect } from "./dialect";
import { RetryingMysqlDialect } from "./retrying-mysql";
import type { DB } from "./schema";
import { SerializedLibsqlDialect } from "./serialized-libsql";

export type Database = Kysely<DB>;
/** What every query takes first: the database or an open transaction, so calls compose. */
export type Executor = Kysely<DB> | Transaction<DB>;

export type DatabaseTarget =
  | { dialect: "mysql"; url: string }
  | { dialect: "sqlite"; url: string; file: string | null };

/**
 * Where the control-plane database lives: `DATABASE_URL` when set (mysql:// for MySQL, MariaDB, TiDB;
 * file: for a libSQL file), otherwise the embedded libSQL file under the data dir.
 */
export function resolveDatabaseTarget(databaseUrl: string | undefined, dataDir: string): DatabaseTarget {
  if (databaseUrl?.startsWith("mysql:")) return { dialect: "mysql", url: databaseUrl };
  if (databaseUrl) {
    const file = databaseUrl.startsWith("file:") ? databaseUrl.slice("file:".length) : null;
    return { dialect: "sqlite", url: databaseUrl, file };
  }
  const file = path.join(dataDir, "kiln.db");
  return { dialect: "sqlite", url: `file:${file}`, file };
}

/** TLS is on when the URL asks for it, in any of the spellings TiDB Cloud, PlanetScale and mysql docs use. */
export function mysqlPoolOptions(url: string): PoolOptions {
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const sslParam = (params.get("ssl") ?? params.get("sslmode") ?? params.get("ssl-mode") ?? "").toLowerCase();
  const wantsTls =
    ["true", "1", "required", "require", "verify_ca", "verify_identity", "verify-full", "{}"].includes(
      sslParam,
    ) || params.get("sslaccept") === "strict";
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: database || undefined,
    ssl: wantsTls ? { minVersion: "TLSv1.2", rejectUnauthorized: true } : undefined,
    connectionLimit: Number(params.get("connectionLimit") ?? 10),
    timezone: "Z",
    decimalNumbers: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: "utf8mb4",
  };
}

function createDialect(target: DatabaseTarget): Dialect {
  if (target.dialect === "mysql") {
    return markDialect(new RetryingMysqlDialect({ pool: createPool(mysqlPoolOptions(target.url)) }), "mysql");
  }
  if (target.file) fs.mkdirSync(path.dirname(path.resolve(target.file)), { recursive: true });
  // Within this process Kysely connections take turns (see serialized-libsql.ts); `timeout` is SQLite's busy
  // timeout for the rare write that meets another process's (a CLI script's) transaction.
  const client = createClient({ url: target.url, timeout: 5_000 });
  return markDialect(new SerializedLibsqlDialect({ client }), "sqlite");
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  const db = new Kysely<DB>({ dialect: createDialect(target) });
  if (target.dialect === "sqlite" && target.file) {
    // WAL lets readers run alongside the single writer; the setting is stored in the file.
    await sql`PRAGMA journal_mode=WAL`.execute(db);
  }
  return db;
}
