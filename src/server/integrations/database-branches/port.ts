/**
 * DatabaseBranches: one database root per project, one branch per revision. A branch starts as a copy of its
 * parent (schema, keys, foreign keys, indexes, rows) and diverges from then on. The generated app reaches a branch
 * through `databaseUrl` alone (mysql://… or file:…).
 */

export type DatabaseBranchesKind = "tidbcloud" | "mysql" | "libsql";

export type DbRoot = {
  kind: DatabaseBranchesKind;
  /** Cluster id (TiDB Cloud), database-name prefix (mysql) or directory (libsql). Stored on the project. */
  id: string;
  name: string;
};

export type BranchState = "creating" | "active" | "deleted" | "restoring" | "unknown";

export type DbBranch = {
  /** Stable id within the root: TiDB branch id, database name, or file name. */
  id: string;
  name: string;
  parentId: string | null;
  state: BranchState;
};

export type BranchConnection = {
  /** What the app gets as DATABASE_URL. Holds a password for server databases: store it encrypted. */
  databaseUrl: string;
  /** For local sandboxes: host paths the app must be able to read and write (libSQL files). */
  hostPaths: string[];
};

export type CreateBranchInput = {
  name: string;
  /** Copy this branch; the root's main branch when omitted. */
  parentId?: string;
  /** Copy the parent as it was at this time. Only where `supportsPointInTime`; "unsupported" error otherwise. */
  atTime?: Date;
};

/** What a branch holds, as the DATABASE tab shows it. */
export type BranchInspection = {
  /** The app's tables (views and Kysely's migration bookkeeping left out), by name; columns in table order. */
  tables: Array<{ name: string; columns: Array<{ name: string; type: string; nullable: boolean }> }>;
  /** Rows of the app's `kysely_migration` table, oldest first; empty when the app never migrated. */
  migrations: Array<{ name: string; appliedAt: string }>;
};

/** One page of a table's rows, as the DATABASE tab's row browser shows them. */
export type TableRowsRequest = { table: string; offset: number; limit: number };

export type TableRows = {
  table: string;
  columns: string[];
  /** Each value as text (null stays null): dates as ISO, binary as its size, long text cut. */
  rows: Array<Array<string | null>>;
  /** Rows in the whole table. */
  total: number;
  offset: number;
};

export type InspectBranchOptions = {
  /** Bound on the whole read (connect, introspect, read the migrations). Default 20 s. */
  timeoutMs?: number;
};

export interface DatabaseBranches {
  readonly kind: DatabaseBranchesKind;
  readonly supportsPointInTime: boolean;
  /** Creates the project's root with an empty main branch. Idempotent by name. */
  createRoot(input: {
    name: string;
  }): Promise<{ root: DbRoot; main: DbBranch; connection: BranchConnection }>;
  deleteRoot(root: DbRoot): Promise<void>;
  /** Waits (bounded) until the branch is usable, then returns it with fresh credentials. */
  createBranch(
    root: DbRoot,
    input: CreateBranchInput,
  ): Promise<{ branch: DbBranch; connection: BranchConnection }>;
  getBranch(root: DbRoot, branchId: string): Promise<DbBranch | null>;
  listBranches(root: DbRoot): Promise<DbBranch[]>;
  /** New credentials for an existing branch (passwords are never read back, only replaced). */
  connect(root: DbRoot, branchId: string): Promise<BranchConnection>;
  /** Throws the branch's changes away: it becomes a fresh copy of its parent again. */
  resetBranch(root: DbRoot, branchId: string): Promise<void>;
  deleteBranch(root: DbRoot, branchId: string): Promise<void>;
  /**
   * Reads a branch's tables and applied migrations with the connection this adapter issued for it (the app's own
   * credentials: nothing is rotated or written). A branch that is gone is "not_found"; one that does not answer
   * within the bound is "timeout"; an unreachable one "unavailable". Messages never hold the connection's secrets.
   */
  inspectBranch(connection: BranchConnection, options?: InspectBranchOptions): Promise<BranchInspection>;
  /**
   * One page of one of the app's tables (as `inspectBranch` lists them), read the same way: ordered by its first
   * column, read-only. Null when the app has no such table.
   */
  readTableRows(
    connection: BranchConnection,
    request: TableRowsRequest,
    options?: InspectBranchOptions,
  ): Promise<TableRows | null>;
}
