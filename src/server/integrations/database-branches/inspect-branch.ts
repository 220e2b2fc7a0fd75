import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, Kysely, MysqlDialect, sql } from "kysely";
import { createPool } from "mysql2";
import { ProviderError, scrub, type Vendor } from "../provider-error";
import type {
  BranchConnection,
  BranchInspection,
  InspectBranchOptions,
  TableRows,
  TableRowsRequest,
} from "./port";

// Branch inspection, shared by the adapters: each opens the branch its own way (a libSQL file, a MySQL-protocol
// server), then the tables and the app's applied migrations are read through Kysely's introspection, the way the
// generated app's own Kysely sees them. Read-only; the connection lives for one inspection.

/** What is read by name; every other table only through introspection. */
export type InspectedSchema = { [DEFAULT_MIGRATION_TABLE]: { name: string; timestamp: string } };

const defaultTimeoutMs = 20_000;
const connectTimeoutMs = 10_000;

/**
 * A branch on a MySQL-protocol server, opened with the URL the adapter issued. mysql2 reads the URL's TLS
 * parameters itself (e.g. TiDB Cloud's `ssl={"rejectUnauthorized":true}`), as the adapters that make these URLs do.
 */
export function openMysqlBranch(databaseUrl: string): Kysely<InspectedSchema> {
  const pool = createPool({ uri: databaseUrl, connectionLimit: 1, connectTimeout: connectTimeoutMs });
  return new Kysely({ dialect: new MysqlDialect({ pool }) });
}

/**
 * A branch on a MySQL-protocol server, opened for the DATABASE tab with the URL `vendor` issued, and the secrets
 * to keep out of its errors (the URL's, and the adapter's own `adapterSecrets`).
 */
export function openMysqlBranchOf(
  vendor: Vendor,
  connection: BranchConnection,
  adapterSecrets: ReadonlyArray<string | undefined>,
): { kdb: Kysely<InspectedSchema>; secrets: Array<string | undefined> } {
  if (!connection.databaseUrl.startsWith("mysql://")) {
    throw new ProviderError(vendor, "invalid", "The branch's database URL is not a mysql:// URL.");
  }
  return {
    kdb: openMysqlBranch(connection.databaseUrl),
    secrets: [...adapterSecrets, ...secretsOfUrl(connection.databaseUrl)],
  };
}

/** The secrets a branch URL holds (its password, a libSQL auth token), for scrubbing error messages. */
export function secretsOfUrl(databaseUrl: string): string[] {
  if (!URL.canParse(databaseUrl)) return [databaseUrl];
  const url = new URL(databaseUrl);
  const secrets = [databaseUrl, url.password, decodeURIComponent(url.password)];
  const token = url.searchParams.get("authToken");
  if (token) secrets.push(token);
  return secrets;
}

const internalTables = new Set<string>([DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE]);

async function readBranch(kdb: Kysely<InspectedSchema>): Promise<BranchInspection> {
  const all = await kdb.introspection.getTables({ withInternalKyselyTables: true });
  const tables = all
    .filter((table) => !table.isView && !internalTables.has(table.name))
    .map((table) => ({
      name: table.name,
      columns: table.columns.map((column) => ({
        name: column.name,
        type: column.dataType,
        nullable: column.isNullable,
      })),
    }))
    .sort((a, b) => (a.name === b.name ? 0 : a.name < b.name ? -1 : 1));
  const migrated = all.some((table) => table.name === DEFAULT_MIGRATION_TABLE && !table.isView);
  const rows = migrated
    ? await kdb
        .selectFrom(DEFAULT_MIGRATION_TABLE)
        .select(["name", "timestamp"])
        .orderBy("timestamp")
        .orderBy("name")
        .execute()
    : [];
  return { tables, migrations: rows.map((row) => ({ name: row.name, appliedAt: String(row.timestamp) })) };
}

/** A cell's value as the row browser shows it. */
const MAX_CELL_CHARS = 500;

export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`;
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS)}…` : text;
}

/**
 * A page of one of the app's tables. The name is only ever one introspection returned (so never the caller's text
 * in SQL), the order is the first column's, so pages do not overlap.
 */
async function readRows(kdb: Kysely<InspectedSchema>, request: TableRowsRequest): Promise<TableRows | null> {
  const all = await kdb.introspection.getTables();
  const table = all.find((candidate) => candidate.name === request.table && !candidate.isView);
  if (!table || internalTables.has(table.name)) return null;
  const columns = table.columns.map((column) => column.name);
  const first = columns[0];
  const [counted, rows] = await Promise.all([
    sql<{ n: number | string | bigint }>`select count(*) as n from ${sql.table(table.name)}`.execute(kdb),
    first
      ? sql<
          Record<string, unknown>
        >`select * from ${sql.table(table.name)} order by ${sql.ref(first)} limit ${request.limit} offset ${request.offset}`.execute(
          kdb,
        )
      : Promise.resolve({ rows: [] }),
  ]);
  return {
    table: table.name,
    columns,
    rows: rows.rows.map((row) => columns.map((column) => cellText(row[column]))),
    total: Number(counted.rows[0]?.n ?? 0),
    offset: request.offset,
  };
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`it did not answer within ${ms / 1000} s`);
    this.name = "DeadlineError";
  }
}

async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  // Once the deadline wins, the work fails later as its connection is destroyed; that says nothing new.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the opened branch within the deadline (connect, introspect, read the migrations), then closes it. Every
 * failure leaves as a ProviderError of `vendor` whose message is the reason alone, with `secrets` scrubbed out.
 */
export function inspectOpenedBranch(
  vendor: Vendor,
  kdb: Kysely<InspectedSchema>,
  secrets: ReadonlyArray<string | undefined>,
  options: InspectBranchOptions = {},
): Promise<BranchInspection> {
  return readOpenedBranch(vendor, kdb, secrets, options, readBranch);
}

/** One page of a table of the opened branch, like `inspectOpenedBranch` (deadline, closing, errors). */
export function readOpenedTableRows(
  vendor: Vendor,
  kdb: Kysely<InspectedSchema>,
  secrets: ReadonlyArray<string | undefined>,
  request: TableRowsRequest,
  options: InspectBranchOptions = {},
): Promise<TableRows | null> {
  return readOpenedBranch(vendor, kdb, secrets, options, (opened) => readRows(opened, request));
}

async function readOpenedBranch<T>(
  vendor: Vendor,
  kdb: Kysely<InspectedSchema>,
  secrets: ReadonlyArray<string | undefined>,
  options: InspectBranchOptions,
  read: (kdb: Kysely<InspectedSchema>) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  let late = false;
  try {
    return await withinDeadline(read(kdb), timeoutMs);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    late = error instanceof DeadlineError;
    const reason = scrub(error instanceof Error ? error.message : String(error), secrets);
    throw new ProviderError(vendor, late ? "timeout" : "unavailable", reason, { cause: error });
  } finally {
    const closing = kdb.destroy();
    // Closing waits for a connection attempt still in flight (up to its own connect timeout): past the deadline
    // the caller must not wait for that too.
    if (late) {
      closing.catch((error: unknown) =>
        console.error(`[kiln] closing an inspected ${vendor} branch:`, error),
      );
    } else {
      await closing;
    }
  }
}
