import {
  type Dialect,
  DummyDriver,
  Kysely,
  MysqlDialect,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from "kysely";
import { createPool } from "mysql2";
import { type DatabaseConfig, type DatabaseKind, parseDatabaseUrl } from "./config";
import { SerializedLibsqlDialect } from "./serialized-libsql";

export type AppDatabase<DB> = {
  db: Kysely<DB>;
  /** `null` when DATABASE_URL is missing or malformed: every query then fails with `configError`. */
  kind: DatabaseKind | null;
  label: string;
  configError: Error | null;
};

function dialectFor(config: DatabaseConfig): Dialect {
  if (config.kind === "mysql") {
    // A pool factory: no connection is opened until the first query.
    return new MysqlDialect({ pool: async () => createPool(config.pool) });
  }
  return new SerializedLibsqlDialect(config.url);
}

/** Fails every query with the configuration problem, so a missing DATABASE_URL breaks requests, not the build. */
class UnconfiguredDriver extends DummyDriver {
  readonly #error: Error;

  constructor(error: Error) {
    super();
    this.#error = error;
  }

  override async init(): Promise<void> {
    throw this.#error;
  }
}

function unconfiguredDialect(error: Error): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new UnconfiguredDriver(error),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/**
 * A Kysely instance for `databaseUrl`. Nothing connects until the first query, so creating one is cheap and never
 * throws: a missing or malformed URL is reported by the queries (and by /api/health).
 */
export function createDatabase<DB>(databaseUrl: string | undefined): AppDatabase<DB> {
  let config: DatabaseConfig;
  try {
    config = parseDatabaseUrl(databaseUrl);
  } catch (error) {
    const configError = error instanceof Error ? error : new Error(String(error));
    return {
      db: new Kysely<DB>({ dialect: unconfiguredDialect(configError) }),
      kind: null,
      label: "not configured",
      configError,
    };
  }
  return {
    db: new Kysely<DB>({ dialect: dialectFor(config) }),
    kind: config.kind,
    label: config.label,
    configError: null,
  };
}
