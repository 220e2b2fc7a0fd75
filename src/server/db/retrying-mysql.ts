import { setTimeout as sleep } from "node:timers/promises";
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  MysqlDialect,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import { isRetryableLockError } from "./lock-errors";

// MySQL/TiDB may pick a single autocommit statement (an UPDATE, an INSERT that checks a foreign key) as the victim of
// a deadlock with another connection's transaction, or end its lock wait; the statement then did nothing and MySQL's
// advice is to run it again. Outside a transaction this driver does so, a few times with a jittered pause, so a
// busy revision's heartbeat or event never fails a build. Inside a transaction nothing is retried here: the abort
// rolled back the whole transaction, and only its owner can start over (transaction.ts `inTransaction`).

const ATTEMPTS = 4;

class RetryingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  inTransaction = false;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inner.executeQuery<R>(compiledQuery);
      } catch (error) {
        if (this.inTransaction || attempt >= ATTEMPTS || !isRetryableLockError(error)) throw error;
        await sleep(10 * attempt + Math.floor(Math.random() * 25));
      }
    }
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

function innerOf(connection: DatabaseConnection): DatabaseConnection {
  if (connection instanceof RetryingConnection) return connection.inner;
  throw new Error("A connection this driver did not hand out");
}

function asRetrying(connection: DatabaseConnection): RetryingConnection {
  if (connection instanceof RetryingConnection) return connection;
  throw new Error("A connection this driver did not hand out");
}

class RetryingDriver implements Driver {
  readonly #inner: Driver;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RetryingConnection(await this.#inner.acquireConnection());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const retrying = asRetrying(connection);
    retrying.inTransaction = true;
    await this.#inner.beginTransaction(retrying.inner, settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const retrying = asRetrying(connection);
    try {
      await this.#inner.commitTransaction(retrying.inner);
    } finally {
      retrying.inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const retrying = asRetrying(connection);
    try {
      await this.#inner.rollbackTransaction(retrying.inner);
    } finally {
      retrying.inTransaction = false;
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.savepoint?.(innerOf(connection), name, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(innerOf(connection), name, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(innerOf(connection), name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** Kysely's MySQL dialect whose autocommit statements are run again when chosen as a deadlock victim. */
export class RetryingMysqlDialect extends MysqlDialect {
  override createDriver(): Driver {
    return new RetryingDriver(super.createDriver());
  }
}
