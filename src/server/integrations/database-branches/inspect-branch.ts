import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";
import { ProviderError, scrub, type Vendor } from "../provider-error";
import type { BranchInspection, InspectBranchOptions } from "./port";

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

/** The secrets a branch URL holds (its password, a libSQL auth token), for scrubbing error messages. */
export function secretsOfUrl(databaseUrl: string): string[] {
  if (!URL.canParse(databaseUrl)) return [databaseUrl];
  const url = new URL(databaseUrl);
  const secrets = [databaseUrl, url.password, decodeURIComponent(url.password)];
  const token = url.searchParams.get("authToken");
  if (token) secrets.push(token);
  return secrets;
}

async function readBranch(kdb: Kysely<InspectedSchema>): Promise<BranchInspection> {
  const all = await kdb.introspection.getTables({ withInternalKyselyTables: true });
  const internal = new Set<string>([DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE]);
  const tables = all
    .filter((table) => !table.isView && !internal.has(table.name))
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
export async function inspectOpenedBranch(
  vendor: Vendor,
  kdb: Kysely<InspectedSchema>,
  secrets: ReadonlyArray<string | undefined>,
  options: InspectBranchOptions = {},
): Promise<BranchInspection> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  let late = false;
  try {
    return await withinDeadline(readBranch(kdb), timeoutMs);
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
