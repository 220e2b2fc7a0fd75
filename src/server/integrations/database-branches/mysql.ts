import { createHash } from "node:crypto";
import { type Connection, createConnection, createPool, type Pool } from "mysql2/promise";
import { z } from "zod";
import { ProviderError, scrub } from "../provider-error";
import { inspectOpenedBranch, openMysqlBranchOf, readOpenedTableRows } from "./inspect-branch";
import { cloneDatabase, copySessionSql, quoteIdentifier } from "./mysql-clone";
import { errnoOf, mysqlError } from "./mysql-errors";
import type { BranchConnection, BranchState, DatabaseBranches, DbBranch, DbRoot } from "./port";
import {
  assertName,
  generatePassword,
  mainBranchName,
  mainBranchRefused,
  namePattern,
  pointInTimeUnsupported,
} from "./shared";

/**
 * DatabaseBranches on any MySQL-compatible server (MySQL, MariaDB, self-hosted TiDB), reached with an admin URL.
 *
 * - A root is a name prefix `<prefix><name>` (e.g. `kiln_shop`); each branch is the database
 *   `<root>__<branch>` (so its id is that database name), the first one `<root>__main`.
 * - A branch is a copy of its parent database (see mysql-clone.ts).
 * - Each branch has its own least-privilege user `kb_<hash of the database name>`@`%` with ALL PRIVILEGES on that
 *   one database and nothing else; `connect` replaces its password. The app gets
 *   `mysql://kb_…:<password>@<admin host:port>/<database>` plus the admin URL's TLS parameters.
 * - Parents are recorded in `<root>___meta`.kiln_branch. A meta database per root (rather than one shared table)
 *   keeps a root self-contained: deleteRoot is "drop every database with the prefix", no shared table to migrate
 *   or lock, and branch users cannot see it. Its name cannot collide with a branch: branch names never start
 *   with "_".
 * - Changes to one root are serialized across app servers with GET_LOCK on a dedicated connection.
 */

export type MysqlDatabaseBranchesOptions = {
  /** mysql://user:password@host:port/ of an account that may create databases and users and grant. */
  adminUrl: string;
  /** Prepended to root names; default "kiln_". Lower-case letters, digits and "_". */
  prefix?: string;
  /** Tables copied in parallel during a clone; default 4. */
  cloneConcurrency?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
};

export type MysqlDatabaseBranches = DatabaseBranches & {
  /** Closes the adapter's connection pool (a server keeps it for its lifetime; tests and scripts close it). */
  close(): Promise<void>;
};

const maxIdentifier = 64;
const metaSuffix = "___meta";
const lockWaitSeconds = 30;

const branchRow = z.object({
  id: z.string(),
  name: z.string(),
  parent_id: z.string().nullable(),
  state: z.string(),
});
type BranchRow = z.infer<typeof branchRow>;
const schemaNameRow = z.object({ SCHEMA_NAME: z.string() });
const lockRow = z.object({ ok: z.union([z.number(), z.string(), z.null()]) });

/** Keeps only the admin URL's TLS settings for the app's URL: never its other driver options. */
export function branchDatabaseUrl(
  adminUrl: string,
  user: string,
  password: string,
  database: string,
): string {
  const admin = new URL(adminUrl);
  const url = new URL(`mysql://${admin.host}`);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  for (const [key, value] of admin.searchParams) {
    if (/^(ssl|tls)/i.test(key)) url.searchParams.append(key, value);
  }
  return url.href;
}

/** A user name ≤ 32 characters (MySQL's limit), stable per database so that cleanup needs no bookkeeping. */
export function branchUserName(database: string): string {
  return `kb_${createHash("sha256").update(database).digest("hex").slice(0, 24)}`;
}

/** In GRANT, "_" and "%" in a database name are wildcards: escape them so the grant matches one database only. */
function unquotedGrantPattern(database: string): string {
  return database.replace(/[\\_%]/g, "\\$&");
}
function grantDatabasePattern(database: string): string {
  return quoteIdentifier(unquotedGrantPattern(database));
}

export function createMysqlDatabaseBranches(options: MysqlDatabaseBranchesOptions): MysqlDatabaseBranches {
  const prefix = options.prefix ?? "kiln_";
  if (!/^[a-z0-9_]{0,20}$/.test(prefix)) {
    throw new ProviderError("mysql", "invalid", "The database prefix may hold only a-z, 0-9 and _ (≤ 20).");
  }
  let adminPassword: string;
  try {
    adminPassword = decodeURIComponent(new URL(options.adminUrl).password);
  } catch (error) {
    throw new ProviderError("mysql", "invalid", "The MySQL admin URL is not a valid mysql:// URL.", {
      cause: error,
    });
  }
  const concurrency = Math.max(1, options.cloneConcurrency ?? 4);
  const timeout = options.statementTimeoutMs ?? 120_000;
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  let pool: Pool | undefined;
  const getPool = () => {
    pool ??= createPool({
      uri: options.adminUrl,
      connectionLimit: concurrency + 2,
      maxIdle: 2,
      idleTimeout: 30_000,
      connectTimeout,
    });
    return pool;
  };

  const run = async (sql: string, values: Array<string | number | null> = []) => {
    await getPool().query({ sql, timeout }, values);
  };
  const select = async <T extends z.ZodType>(schema: T, sql: string, values: Array<string | number> = []) => {
    const [rows] = await getPool().query({ sql, timeout }, values);
    return z.array(schema).parse(rows);
  };

  // ---- names --------------------------------------------------------------------------------------------

  const rootIdFor = (name: string) => {
    const rootId = `${prefix}${assertName("mysql", "root", name)}`;
    const longest = unquotedGrantPattern(`${rootId}__${mainBranchName}`);
    if (rootId.length + metaSuffix.length > maxIdentifier || longest.length > maxIdentifier) {
      throw new ProviderError(
        "mysql",
        "invalid",
        `The root name ${name} is too long: "${rootId}__${mainBranchName}" (with each "_" counted twice) must fit MySQL's 64-character limit. Use a shorter name.`,
      );
    }
    return rootId;
  };
  const checkRoot = (root: DbRoot) => {
    const name = root.id.slice(prefix.length);
    if (!root.id.startsWith(prefix) || !namePattern.test(name) || rootIdFor(name) !== root.id) {
      throw new ProviderError(
        "mysql",
        "invalid",
        `${JSON.stringify(root.id)} is not a root of this adapter.`,
      );
    }
    return root.id;
  };
  const metaDb = (rootId: string) => `${rootId}${metaSuffix}`;
  const metaTable = (rootId: string) => `${quoteIdentifier(metaDb(rootId))}.\`kiln_branch\``;
  const mainDb = (rootId: string) => `${rootId}__${mainBranchName}`;
  const databaseFor = (rootId: string, branchName: string) => {
    const database = `${rootId}__${assertName("mysql", "branch", branchName)}`;
    // The GRANT pattern (with "_" escaped as "\\_") must fit the 64-character limit too.
    if (unquotedGrantPattern(database).length > maxIdentifier) {
      throw new ProviderError(
        "mysql",
        "invalid",
        `The branch name ${branchName} is too long: the database name "${database}" (with each "_" counted twice) must fit MySQL's 64-character limit. Use a shorter name.`,
      );
    }
    return database;
  };
  /**
   * Branch ids are database names of this root. Anything else cannot name a branch here (so it is "not found"),
   * and never goes near SQL.
   */
  const isBranchId = (rootId: string, branchId: string) => {
    const marker = `${rootId}__`;
    const name = branchId.slice(marker.length);
    return (
      branchId.startsWith(marker) &&
      namePattern.test(name) &&
      unquotedGrantPattern(branchId).length <= maxIdentifier
    );
  };
  const branchMissing = (branchId: string) =>
    new ProviderError(
      "mysql",
      "not_found",
      `Branch ${JSON.stringify(branchId.slice(0, 80))} does not exist (or is not active) in this database root.`,
    );

  // ---- building blocks ----------------------------------------------------------------------------------

  async function withRootLock<T>(rootId: string, work: (control: Connection) => Promise<T>): Promise<T> {
    const control = await createConnection({ uri: options.adminUrl, connectTimeout });
    const lockName = `kiln-branches:${createHash("sha256").update(rootId).digest("hex").slice(0, 40)}`;
    try {
      const [rows] = await control.query({ sql: "SELECT GET_LOCK(?, ?) AS ok", timeout }, [
        lockName,
        lockWaitSeconds,
      ]);
      const [row] = z.array(lockRow).parse(rows);
      if (Number(row?.ok) !== 1) {
        throw new ProviderError(
          "mysql",
          "conflict",
          `Another Kiln server has been changing database root ${rootId} for ${lockWaitSeconds} s; retry shortly.`,
        );
      }
      await control.query({ sql: copySessionSql, timeout });
      return await work(control);
    } finally {
      // Ending the session releases GET_LOCK and any table locks with it.
      await control.end();
    }
  }

  async function findRow(rootId: string, branchId: string): Promise<BranchRow | undefined> {
    try {
      const [row] = await select(
        branchRow,
        `SELECT id, name, parent_id, state FROM ${metaTable(rootId)} WHERE id = ?`,
        [branchId],
      );
      return row;
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === 1049 || errno === 1146) return undefined;
      throw error;
    }
  }

  async function existingDatabases(rootId: string): Promise<Set<string>> {
    const rows = await select(
      schemaNameRow,
      "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [`${rootId.replace(/[\\_%]/g, "\\$&")}\\_\\_%`],
    );
    return new Set(rows.map((row) => row.SCHEMA_NAME).filter((name) => name.startsWith(`${rootId}__`)));
  }

  const toBranch = (row: BranchRow): DbBranch => ({
    id: row.id,
    name: row.name,
    parentId: row.parent_id,
    state: stateOf(row.state),
  });

  /** Creates or repairs the branch's user with a new password; returns the app's connection. */
  async function issueCredentials(database: string, secrets: string[]): Promise<BranchConnection> {
    const user = `'${branchUserName(database)}'@'%'`;
    const password = generatePassword();
    secrets.push(password);
    await run(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ?`, [password]);
    await run(`ALTER USER ${user} IDENTIFIED BY ?`, [password]);
    await run(`GRANT ALL PRIVILEGES ON ${grantDatabasePattern(database)}.* TO ${user}`);
    return {
      databaseUrl: branchDatabaseUrl(options.adminUrl, branchUserName(database), password, database),
      hostPaths: [],
    };
  }

  async function dropBranchObjects(database: string): Promise<void> {
    await run(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
    await run(`DROP USER IF EXISTS '${branchUserName(database)}'@'%'`);
  }

  async function clone(control: Connection, from: string, to: string): Promise<void> {
    await run(`DROP DATABASE IF EXISTS ${quoteIdentifier(to)}`);
    await cloneDatabase({ pool: getPool(), control, from, to, concurrency, statementTimeoutMs: timeout });
  }

  /** Every failure leaves as a ProviderError, scrubbed of the admin password and any password it generated. */
  async function wrap<T>(action: string, work: (secrets: string[]) => Promise<T>): Promise<T> {
    const secrets = [adminPassword];
    try {
      return await work(secrets);
    } catch (error) {
      throw mysqlError(action, error, secrets);
    }
  }

  // ---- the port -----------------------------------------------------------------------------------------

  return {
    kind: "mysql",
    supportsPointInTime: false,

    createRoot: (input) =>
      wrap("create the database root", async (secrets) => {
        const rootId = rootIdFor(input.name);
        return withRootLock(rootId, async () => {
          await run(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(metaDb(rootId))} CHARACTER SET utf8mb4`);
          await run(
            `CREATE TABLE IF NOT EXISTS ${metaTable(rootId)} (id VARCHAR(64) NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, parent_id VARCHAR(64) NULL, state VARCHAR(16) NOT NULL, created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
          );
          const main = mainDb(rootId);
          await run(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(main)} CHARACTER SET utf8mb4`);
          await run(
            `INSERT IGNORE INTO ${metaTable(rootId)} (id, name, parent_id, state) VALUES (?, ?, NULL, 'active')`,
            [main, mainBranchName],
          );
          const connection = await issueCredentials(main, secrets);
          return {
            root: { kind: "mysql" as const, id: rootId, name: input.name },
            main: { id: main, name: mainBranchName, parentId: null, state: "active" as const },
            connection,
          };
        });
      }),

    deleteRoot: (root) =>
      wrap("delete the database root", async () => {
        const rootId = checkRoot(root);
        await withRootLock(rootId, async () => {
          for (const database of await existingDatabases(rootId)) await dropBranchObjects(database);
        });
      }),

    createBranch: (root, input) =>
      wrap("create the branch", async (secrets) => {
        if (input.atTime) throw pointInTimeUnsupported("mysql");
        const rootId = checkRoot(root);
        const database = databaseFor(rootId, input.name);
        const parent = input.parentId ?? mainDb(rootId);
        return withRootLock(rootId, async (control) => {
          const parentRow = isBranchId(rootId, parent) ? await findRow(rootId, parent) : undefined;
          if (parentRow?.state !== "active") {
            throw new ProviderError(
              "mysql",
              "not_found",
              `Parent branch ${JSON.stringify(parent.slice(0, 80))} does not exist (or is not active): branch from an existing branch, or create the root first.`,
            );
          }
          const existing = await findRow(rootId, database);
          if (existing?.state === "active") {
            if (existing.parent_id !== parent) {
              throw new ProviderError(
                "mysql",
                "conflict",
                `Branch ${database} already exists with parent ${existing.parent_id ?? "(none)"}, not ${parent}: choose another name or delete it first.`,
              );
            }
            // Idempotent by name: the same request again returns the branch, with fresh credentials.
            return { branch: toBranch(existing), connection: await issueCredentials(database, secrets) };
          }
          // A row in any other state is the remains of an interrupted attempt: start over.
          await run(
            `REPLACE INTO ${metaTable(rootId)} (id, name, parent_id, state) VALUES (?, ?, ?, 'creating')`,
            [database, input.name, parent],
          );
          try {
            await clone(control, parent, database);
            const connection = await issueCredentials(database, secrets);
            await run(`UPDATE ${metaTable(rootId)} SET state = 'active' WHERE id = ?`, [database]);
            const branch: DbBranch = { id: database, name: input.name, parentId: parent, state: "active" };
            return { branch, connection };
          } catch (error) {
            const failure = mysqlError("create the branch", error, secrets);
            throw await withCleanup(failure, secrets, async () => {
              await dropBranchObjects(database);
              await run(`DELETE FROM ${metaTable(rootId)} WHERE id = ?`, [database]);
            });
          }
        });
      }),

    getBranch: (root, branchId) =>
      wrap("read the branch", async () => {
        const rootId = checkRoot(root);
        if (!isBranchId(rootId, branchId)) return null;
        const row = await findRow(rootId, branchId);
        if (!row) return null;
        if (row.state === "active" && !(await existingDatabases(rootId)).has(branchId)) return null;
        return toBranch(row);
      }),

    listBranches: (root) =>
      wrap("list branches", async () => {
        const rootId = checkRoot(root);
        let rows: BranchRow[];
        try {
          rows = await select(
            branchRow,
            `SELECT id, name, parent_id, state FROM ${metaTable(rootId)} ORDER BY created_at, id`,
          );
        } catch (error) {
          const errno = errnoOf(error);
          if (errno !== 1049 && errno !== 1146) throw error;
          throw new ProviderError(
            "mysql",
            "not_found",
            `Database root ${rootId} does not exist: create it first.`,
          );
        }
        const databases = await existingDatabases(rootId);
        return rows.filter((row) => row.state !== "active" || databases.has(row.id)).map(toBranch);
      }),

    connect: (root, branchId) =>
      wrap("connect to the branch", async (secrets) => {
        const rootId = checkRoot(root);
        if (!isBranchId(rootId, branchId)) throw branchMissing(branchId);
        const row = await findRow(rootId, branchId);
        if (row?.state !== "active" || !(await existingDatabases(rootId)).has(branchId)) {
          throw branchMissing(branchId);
        }
        return issueCredentials(branchId, secrets);
      }),

    resetBranch: (root, branchId) =>
      wrap("reset the branch", async () => {
        const rootId = checkRoot(root);
        if (!isBranchId(rootId, branchId)) throw branchMissing(branchId);
        await withRootLock(rootId, async (control) => {
          const row = await findRow(rootId, branchId);
          if (!row) throw branchMissing(branchId);
          if (row.parent_id === null) throw mainBranchRefused("mysql", "reset");
          const parent = row.parent_id;
          if ((await findRow(rootId, parent))?.state !== "active") {
            throw new ProviderError(
              "mysql",
              "not_found",
              `Branch ${branchId} cannot be reset: its parent ${parent} no longer exists.`,
            );
          }
          await run(`UPDATE ${metaTable(rootId)} SET state = 'restoring' WHERE id = ?`, [branchId]);
          // Dropping the whole database also removes views, routines and triggers the branch added. The user
          // and its grant survive (grants name the database, not its contents), so the app's URL keeps working.
          await clone(control, parent, branchId);
          await run(`UPDATE ${metaTable(rootId)} SET state = 'active' WHERE id = ?`, [branchId]);
        });
      }),

    deleteBranch: (root, branchId) =>
      wrap("delete the branch", async () => {
        const rootId = checkRoot(root);
        if (branchId === mainDb(rootId)) throw mainBranchRefused("mysql", "delete");
        // An id that cannot name a branch of this root names nothing to delete.
        if (!isBranchId(rootId, branchId)) return;
        await withRootLock(rootId, async () => {
          await dropBranchObjects(branchId);
          try {
            await run(`DELETE FROM ${metaTable(rootId)} WHERE id = ?`, [branchId]);
          } catch (error) {
            const errno = errnoOf(error);
            // No meta table means no root, and so no record to remove.
            if (errno !== 1049 && errno !== 1146) throw error;
          }
        });
      }),

    async inspectBranch(connection, inspectOptions) {
      const { kdb, secrets } = openMysqlBranchOf("mysql", connection, [adminPassword]);
      return inspectOpenedBranch("mysql", kdb, secrets, inspectOptions);
    },

    async readTableRows(connection, request, readOptions) {
      const { kdb, secrets } = openMysqlBranchOf("mysql", connection, [adminPassword]);
      return readOpenedTableRows("mysql", kdb, secrets, request, readOptions);
    },

    async close() {
      const current = pool;
      pool = undefined;
      await current?.end();
    },
  };
}

function stateOf(state: string): BranchState {
  if (state === "active" || state === "creating" || state === "restoring") return state;
  return "unknown";
}

/** Runs cleanup after a failure; the original error stays the one reported, with a note if cleanup failed too. */
async function withCleanup(
  failure: ProviderError,
  secrets: string[],
  cleanup: () => Promise<void>,
): Promise<ProviderError> {
  try {
    await cleanup();
    return failure;
  } catch (cleanupError) {
    const note = scrub(cleanupError instanceof Error ? cleanupError.message : String(cleanupError), secrets);
    return new ProviderError(
      "mysql",
      failure.kind,
      `${failure.message} (Cleaning up the half-made branch failed too: ${note}; creating it again retries.)`,
      { cause: failure },
    );
  }
}
