import type { Connection, Pool } from "mysql2/promise";
import { z } from "zod";
import { ProviderError } from "../provider-error";
import { errnoOf } from "./mysql-errors";

/**
 * Copies one database into a new one on the same MySQL-compatible server: schema, keys, foreign keys, indexes,
 * AUTO_INCREMENT counters, charset, rows, and views.
 *
 * - Tables: `SHOW CREATE TABLE` is replayed in the new database (never `CREATE TABLE … LIKE`, which drops foreign
 *   keys). Its foreign keys name their parent table unqualified, so run with the new database as the current one
 *   they point inside the new database. Rows follow with `INSERT … SELECT` over the non-generated columns.
 *   Foreign-key checks are off on those sessions, so tables can be created and filled in any order.
 * - Parallelism: one table per connection, a few connections at once (the server does the copying; Node only
 *   sends statements).
 * - Consistency: while the copy runs, a control connection holds `LOCK TABLES … READ` on every parent table, so
 *   the parent's writers wait (≈ the clone's duration) and all tables are copied as of one moment. Servers that
 *   refuse LOCK TABLES (TiDB without `enable-table-lock`, a user without the privilege) get a per-table-consistent
 *   copy instead.
 * - Views are recreated with `SQL SECURITY INVOKER`, without the original DEFINER, and with references to the
 *   parent database rewritten to the new one: a view must never reach back into the parent, nor run with the
 *   privileges of whoever created it. Triggers, routines and events are not copied.
 */

export type CloneOptions = {
  pool: Pool;
  /** Holds the table locks; must not be a pool connection the workers could wait for. */
  control: Connection;
  from: string;
  to: string;
  concurrency: number;
  statementTimeoutMs: number;
};

/** Session settings for connections that copy: FK checks off; no mode that would alter replayed DDL or data. */
export const copySessionSql =
  "SET SESSION foreign_key_checks = 0, sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'";

/** Servers without LOCK TABLES support or privilege: 1044/1142/1227 (denied), 1235 (not supported), 8020 (TiDB). */
const lockUnsupported = new Set([1044, 1142, 1227, 1235, 8020]);

const identifierPattern = /^[A-Za-z0-9_$-]+$/;

export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

const tableRow = z.object({ TABLE_NAME: z.string(), TABLE_TYPE: z.string() });
const columnRow = z.object({ TABLE_NAME: z.string(), COLUMN_NAME: z.string(), EXTRA: z.string().nullable() });
const schemaRow = z.object({ DEFAULT_CHARACTER_SET_NAME: z.string(), DEFAULT_COLLATION_NAME: z.string() });
const createTableRow = z.object({ "Create Table": z.string() });
const createViewRow = z.object({ "Create View": z.string() });

type Runner = Pick<Connection, "query">;

async function select<T extends z.ZodType>(
  runner: Runner,
  schema: T,
  sql: string,
  values: Array<string | number>,
  timeout: number,
): Promise<Array<z.infer<T>>> {
  const [rows] = await runner.query({ sql, timeout }, values);
  return z.array(schema).parse(rows);
}

export async function cloneDatabase(options: CloneOptions): Promise<void> {
  const { pool, control, from, to, statementTimeoutMs: timeout } = options;
  const [charset] = await select(
    pool,
    schemaRow,
    "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    [from],
    timeout,
  );
  if (!charset) throw new ProviderError("mysql", "not_found", `The parent database ${from} does not exist.`);
  const objects = await select(
    pool,
    tableRow,
    "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
    [from],
    timeout,
  );
  const tables = objects.filter((row) => row.TABLE_TYPE === "BASE TABLE").map((row) => row.TABLE_NAME);
  const views = objects.filter((row) => row.TABLE_TYPE === "VIEW").map((row) => row.TABLE_NAME);
  const columns = await copyableColumns(pool, from, timeout);

  const charsetName = charset.DEFAULT_CHARACTER_SET_NAME;
  const collation = charset.DEFAULT_COLLATION_NAME;
  if (!identifierPattern.test(charsetName) || !identifierPattern.test(collation)) {
    throw new ProviderError(
      "mysql",
      "internal",
      `Unexpected charset ${charsetName}/${collation} on ${from}.`,
    );
  }
  await pool.query({
    sql: `CREATE DATABASE ${quoteIdentifier(to)} CHARACTER SET ${charsetName} COLLATE ${collation}`,
    timeout,
  });

  const locked = await lockTables(control, from, tables, timeout);
  try {
    await forEachLimited(tables, options.concurrency, async (table) => {
      const connection = await pool.getConnection();
      try {
        await connection.query({ sql: copySessionSql, timeout });
        await connection.query({ sql: `USE ${quoteIdentifier(to)}`, timeout });
        const [create] = await select(
          connection,
          createTableRow,
          `SHOW CREATE TABLE ${quoteIdentifier(from)}.${quoteIdentifier(table)}`,
          [],
          timeout,
        );
        if (!create)
          throw new ProviderError("mysql", "internal", `SHOW CREATE TABLE ${table} returned nothing.`);
        await connection.query({ sql: create["Create Table"], timeout });
        const list = (columns.get(table) ?? []).map(quoteIdentifier).join(", ");
        if (list) {
          await connection.query({
            sql: `INSERT INTO ${quoteIdentifier(to)}.${quoteIdentifier(table)} (${list}) SELECT ${list} FROM ${quoteIdentifier(from)}.${quoteIdentifier(table)}`,
            timeout,
          });
        }
      } finally {
        connection.release();
      }
    });
  } finally {
    if (locked) await control.query({ sql: "UNLOCK TABLES", timeout });
  }
  await copyViews(pool, from, to, views, timeout);
}

async function copyableColumns(pool: Pool, schema: string, timeout: number): Promise<Map<string, string[]>> {
  const rows = await select(
    pool,
    columnRow,
    "SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
    [schema],
    timeout,
  );
  const byTable = new Map<string, string[]>();
  for (const row of rows) {
    // Generated columns compute themselves and refuse values. ("DEFAULT_GENERATED" is an ordinary column with
    // an expression default, and is copied.)
    if (/\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(row.EXTRA ?? "")) continue;
    const list = byTable.get(row.TABLE_NAME) ?? [];
    list.push(row.COLUMN_NAME);
    byTable.set(row.TABLE_NAME, list);
  }
  return byTable;
}

async function lockTables(control: Connection, from: string, tables: string[], timeout: number) {
  if (tables.length === 0) return false;
  const list = tables.map((table) => `${quoteIdentifier(from)}.${quoteIdentifier(table)} READ`).join(", ");
  try {
    // Bounded: a writer's open transaction must not keep the clone waiting for the server default (a year).
    await control.query({ sql: "SET SESSION lock_wait_timeout = 20", timeout });
    await control.query({ sql: `LOCK TABLES ${list}`, timeout });
    return true;
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== undefined && lockUnsupported.has(errno)) return false;
    throw error;
  }
}

async function copyViews(pool: Pool, from: string, to: string, views: string[], timeout: number) {
  if (views.length === 0) return;
  const definitions = new Map<string, string>();
  for (const view of views) {
    const [row] = await select(
      pool,
      createViewRow,
      `SHOW CREATE VIEW ${quoteIdentifier(from)}.${quoteIdentifier(view)}`,
      [],
      timeout,
    );
    if (row) definitions.set(view, rewriteView(row["Create View"], from, to));
  }
  const connection = await pool.getConnection();
  try {
    await connection.query({ sql: copySessionSql, timeout });
    await connection.query({ sql: `USE ${quoteIdentifier(to)}`, timeout });
    // A view may select from another view: create in passes until none is left (bounded by the count).
    let pending = [...definitions.entries()];
    for (let pass = 0; pending.length > 0 && pass < views.length; pass++) {
      const failed: typeof pending = [];
      let lastError: unknown;
      for (const entry of pending) {
        try {
          await connection.query({ sql: entry[1], timeout });
        } catch (error) {
          if (errnoOf(error) !== 1146) throw error;
          failed.push(entry);
          lastError = error;
        }
      }
      if (failed.length === pending.length) throw lastError;
      pending = failed;
    }
  } finally {
    connection.release();
  }
}

/** Exported for tests: strips DEFINER, makes the view SQL SECURITY INVOKER, and re-points it at `to`. */
export function rewriteView(definition: string, from: string, to: string): string {
  const withoutDefiner = definition.replace(
    /\sDEFINER\s*=\s*(`(?:[^`]|``)*`|'[^']*'|\S+)@(`(?:[^`]|``)*`|'[^']*'|\S+)/i,
    "",
  );
  // Clause order is fixed: CREATE [ALGORITHM=…] [DEFINER=…] [SQL SECURITY …] VIEW.
  const invoker = /\sSQL SECURITY (DEFINER|INVOKER)\s/i.test(withoutDefiner)
    ? withoutDefiner.replace(/\sSQL SECURITY (DEFINER|INVOKER)\s/i, " SQL SECURITY INVOKER ")
    : withoutDefiner.replace(/\sVIEW\s/i, " SQL SECURITY INVOKER VIEW ");
  return invoker.replaceAll(`${quoteIdentifier(from)}.`, `${quoteIdentifier(to)}.`);
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  // Workers share one iterator, so each item is taken exactly once.
  const queue = items.values();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (const item of queue) {
      if (failure) return;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
