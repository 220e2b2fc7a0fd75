import { LibsqlDialect } from "@libsql/kysely-libsql";
import type { DatabaseConnection, Driver, TransactionSettings } from "kysely";

// The libSQL file driver is synchronous: a write that meets another connection's open transaction waits for the
// lock *inside* the call, freezing the event loop, so the holder can never commit and both stall until SQLITE_BUSY.
// Embedded SQLite has one writer anyway, so Kysely connections here take turns through an async mutex: a waiting
// request yields the event loop instead of blocking it. (Kysely's own SQLite driver does the same.)

const ACQUIRE_TIMEOUT_MS = 15_000;

class AsyncMutex {
  #locked = false;
  #waiters: Array<() => void> = [];

  async lock(timeoutMs: number): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== grant);
        // A query issued on `db` inside a `db.transaction()` callback would wait for itself forever; fail loudly.
        reject(
          new Error(`Embedded database busy for ${timeoutMs} ms (a query outside its open transaction?)`),
        );
      }, timeoutMs);
      this.#waiters.push(grant);
    });
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}

class SerializedDriver implements Driver {
  readonly #inner: Driver;
  readonly #mutex = new AsyncMutex();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock(ACQUIRE_TIMEOUT_MS);
    try {
      return await this.#inner.acquireConnection();
    } catch (error) {
      this.#mutex.unlock();
      throw error;
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      this.#mutex.unlock();
    }
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

export class SerializedLibsqlDialect extends LibsqlDialect {
  override createDriver(): Driver {
    return new SerializedDriver(super.createDriver());
  }
}
