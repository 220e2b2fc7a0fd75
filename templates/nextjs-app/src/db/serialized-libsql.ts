import fs from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import { LibsqlDialect, LibsqlDriver } from "@libsql/kysely-libsql";
import type { DatabaseConnection, Driver, TransactionSettings } from "kysely";

// The libSQL file driver is synchronous: a write that meets another connection's open transaction waits for the
// lock *inside* the call, freezing the event loop, so the transaction holding the lock can never commit and both
// stall until SQLITE_BUSY. SQLite has a single writer anyway, so here Kysely connections take turns through an
// async mutex: a request that has to wait yields the event loop instead of blocking it.

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
        // A query run on `db` inside a `db.transaction()` callback (instead of on `trx`) waits for itself forever.
        reject(
          new Error(
            `Database busy for ${timeoutMs} ms: is a query using db instead of trx in a transaction?`,
          ),
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

/** `file:./data/app.db` → `./data/app.db`; `null` for a remote libSQL URL. */
function localPath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const rest = url.slice("file:".length).split("?")[0] ?? "";
  // file:///abs/path.db and file://host/abs/path.db name an absolute path after the authority.
  if (rest.startsWith("//")) return decodeURIComponent(rest.replace(/^\/\/[^/]*/, ""));
  return decodeURIComponent(rest);
}

/** Opens the libSQL client on first use, so importing the database module never touches the file. */
class SerializedLibsqlDriver implements Driver {
  readonly #url: string;
  readonly #mutex = new AsyncMutex();
  #inner: Driver | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  #driver(): Driver {
    if (!this.#inner) throw new Error("libSQL driver used before init()");
    return this.#inner;
  }

  async init(): Promise<void> {
    const file = localPath(this.#url);
    if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
    // `timeout` is SQLite's busy timeout, for a write that meets another process's transaction (e.g. a migration).
    this.#inner = new LibsqlDriver(createClient({ url: this.#url, timeout: 5_000 }), true);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock(ACQUIRE_TIMEOUT_MS);
    try {
      return await this.#driver().acquireConnection();
    } catch (error) {
      this.#mutex.unlock();
      throw error;
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#driver().beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#driver().commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#driver().rollbackTransaction(connection);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#driver().releaseConnection(connection);
    } finally {
      this.#mutex.unlock();
    }
  }

  async destroy(): Promise<void> {
    await this.#inner?.destroy();
  }
}

export class SerializedLibsqlDialect extends LibsqlDialect {
  readonly #url: string;

  constructor(url: string) {
    super({ url });
    this.#url = url;
  }

  override createDriver(): Driver {
    return new SerializedLibsqlDriver(this.#url);
  }
}
