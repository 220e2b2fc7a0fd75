import fs from "node:fs/promises";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";
import { type Executor, mysqlPoolOptions } from "@/server/db/connection";
import { findDbBranch } from "@/server/db/queries/pipeline";
import { findRevisionOfUser } from "@/server/db/queries/revisions";
import { AppError } from "@/server/errors";
import { scrub } from "@/server/integrations/provider-error";
import { decryptBranchConnection } from "@/server/pipeline/steps/provision";

// The DATABASE tab: the tables of a checkpoint's own database branch and the app's migrations applied to it, read
// live from the branch with the app's own credentials. Nothing is written; the connection lives for one request.

export type RevisionDatabase = {
  /** The app's tables (views and Kysely's migration bookkeeping left out), by name; columns in table order. */
  tables: Array<{ name: string; columns: Array<{ name: string; type: string; nullable: boolean }> }>;
  /** Rows of the app's `kysely_migration` table, oldest first; empty when the app never migrated. */
  migrations: Array<{ name: string; appliedAt: string }>;
};

/** What this module reads by name; every other table only through introspection. */
type BranchSchema = { [DEFAULT_MIGRATION_TABLE]: { name: string; timestamp: string } };

const connectTimeoutMs = 10_000;
/** The whole read: connect, introspect, read the migrations. A branch slower than this is reported unavailable. */
const deadlineMs = 20_000;

class DeadlineError extends Error {
  constructor() {
    super(`it did not answer within ${deadlineMs / 1000} s`);
    this.name = "DeadlineError";
  }
}

function openBranchDatabase(databaseUrl: string): Kysely<BranchSchema> {
  if (databaseUrl.startsWith("mysql://")) {
    const pool = createPool({
      ...mysqlPoolOptions(databaseUrl),
      connectionLimit: 1,
      connectTimeout: connectTimeoutMs,
    });
    return new Kysely({ dialect: new MysqlDialect({ pool }) });
  }
  if (databaseUrl.startsWith("file:") || databaseUrl.startsWith("libsql:")) {
    // `timeout` is SQLite's busy timeout: a read that meets the app's write lock waits this long, then fails.
    return new Kysely({ dialect: new LibsqlDialect({ url: databaseUrl, timeout: 5_000 }) });
  }
  throw new Error(
    `The branch's database URL has an unsupported scheme (expected mysql://, file: or libsql:).`,
  );
}

/** A libSQL file that is gone must not be recreated empty by connecting to it. */
async function assertFileExists(databaseUrl: string, ordinal: number): Promise<void> {
  if (!databaseUrl.startsWith("file:")) return;
  const file = databaseUrl.slice("file:".length).split("?")[0] ?? "";
  const exists = await fs.stat(file).then(
    (stats) => stats.isFile(),
    (error: unknown) => {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
      throw error;
    },
  );
  if (!exists) {
    throw new AppError(
      "unavailable:database",
      `Checkpoint ${ordinal}'s database file is missing on the server (was the data directory moved?).`,
    );
  }
}

async function readDatabase(kdb: Kysely<BranchSchema>): Promise<RevisionDatabase> {
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

async function withinDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), deadlineMs);
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
 * The tables and applied migrations of checkpoint `revisionId`'s database branch, for its owner (another operator's
 * reads as not_found:revision). A branch retention removed is conflict:branch_pruned; one not created yet is
 * conflict:revision_not_ready; an unreachable or too slow one is unavailable:database.
 */
export async function describeRevisionDatabase(
  db: Executor,
  key: Buffer,
  userId: string,
  revisionId: string,
): Promise<RevisionDatabase> {
  const revision = await findRevisionOfUser(db, userId, revisionId);
  if (!revision) throw new AppError("not_found:revision");
  const branch = revision.db_branch_id ? await findDbBranch(db, revision.db_branch_id) : undefined;
  if (branch && branch.project_id !== revision.project_id) {
    throw new Error(`Revision ${revision.id} points at database branch ${branch.id} of another project.`);
  }
  if (branch?.deleted_at != null) {
    throw new AppError(
      "conflict:branch_pruned",
      `Checkpoint ${revision.ordinal}'s database branch was removed by retention, so its data can no longer be shown.`,
    );
  }
  if (!branch?.connection_ciphertext) {
    throw new AppError(
      "conflict:revision_not_ready",
      `Checkpoint ${revision.ordinal} has no database branch yet: it is created while the checkpoint is provisioned.`,
    );
  }
  const { databaseUrl } = decryptBranchConnection(key, branch.id, branch.connection_ciphertext);
  await assertFileExists(databaseUrl, revision.ordinal);
  const kdb = openBranchDatabase(databaseUrl);
  try {
    return await withinDeadline(readDatabase(kdb));
  } catch (error) {
    if (error instanceof AppError) throw error;
    const parsed = URL.canParse(databaseUrl) ? new URL(databaseUrl) : undefined;
    const secrets = [databaseUrl, parsed?.password, parsed?.searchParams.get("authToken") ?? undefined];
    const reason = scrub(error instanceof Error ? error.message : String(error), secrets);
    throw new AppError(
      "unavailable:database",
      `Could not read checkpoint ${revision.ordinal}'s database: ${reason}`,
      { cause: error },
    );
  } finally {
    await kdb.destroy();
  }
}
