import type { Dialect, DialectAdapter } from "kysely";

// The dialect is decided once, from the connection URL, and carried on the adapter of the Kysely instance that
// `openDatabase` builds. It is read back by a registered symbol, never by class identity: a Next.js server holds
// several bundled copies of Kysely (instrumentation and each route), and the one that opened the shared pool is not
// the one a route imports, so `adapter instanceof MysqlAdapter` answered "no" on MySQL and sent SQLite syntax.
const dialectMark = Symbol.for("kiln.db.dialect");

export type DialectName = "mysql" | "sqlite";

/** Any Kysely instance or transaction (the dialect is read from its executor's adapter). */
type Executor = { getExecutor(): { adapter: DialectAdapter } };

/** Wraps a dialect so every executor built on it (transactions included) says which dialect it speaks. */
export function markDialect(dialect: Dialect, name: DialectName): Dialect {
  return {
    createDriver: () => dialect.createDriver(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createAdapter: (): DialectAdapter => Object.assign(dialect.createAdapter(), { [dialectMark]: name }),
  };
}

/** The dialect of a control-plane executor; throws for a database that `openDatabase` did not open. */
export function dialectOf(db: Executor): DialectName {
  const mark: unknown = Reflect.get(db.getExecutor().adapter, dialectMark);
  if (mark === "mysql" || mark === "sqlite") return mark;
  throw new Error("This database was not opened by openDatabase(): its dialect is unknown");
}

/** The one place queries ask which dialect they run on (upserts, insert-ignore and row locks diverge). */
export function isMysqlExecutor(db: Executor): boolean {
  return dialectOf(db) === "mysql";
}

/** True for a unique-key violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = "code" in error ? String(error.code) : "";
  // Only unique and primary keys: a NOT NULL or CHECK failure is a bug, not a race to report as a conflict.
  return (
    code === "ER_DUP_ENTRY" ||
    code === "SQLITE_CONSTRAINT_UNIQUE" ||
    code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    /UNIQUE constraint failed|Duplicate entry/i.test(error.message)
  );
}
