import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction } from "@/server/db/transaction";
import { type TestDatabase, testDatabases } from "../helpers/databases";

// Two requests that lock the same rows in opposite order (an event writer and a usage update, say) deadlock on
// MySQL/TiDB, and the server aborts one of them. Kiln's transactions run the victim again, so both complete.
// (Embedded SQLite has a single writer: it never deadlocks, and runs the same code.)

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe.each(testDatabases.filter((factory) => factory.name === "mysql"))(
  "transactions on $name",
  (factory) => {
    let t: TestDatabase;

    beforeAll(async () => {
      t = await factory.open();
      await sql`create table deadlock_probe (id int primary key, n int not null)`.execute(t.db);
      await sql`insert into deadlock_probe (id, n) values (1, 0), (2, 0)`.execute(t.db);
    });

    afterAll(async () => {
      await t?.drop();
    });

    it("runs a deadlock victim again, so both of two transactions locking rows in opposite order complete", async () => {
      const firstLocks = [deferred(), deferred()];
      const both = Promise.all(firstLocks.map((lock) => lock.promise));
      const bump = (first: number, second: number, index: number) =>
        inTransaction(t.db, async (tx) => {
          await sql`update deadlock_probe set n = n + 1 where id = ${first}`.execute(tx);
          firstLocks[index]?.resolve();
          // Each holds its first row and now asks for the other's: the server must abort one of them.
          await both;
          await sql`update deadlock_probe set n = n + 1 where id = ${second}`.execute(tx);
        });
      await Promise.all([bump(1, 2, 0), bump(2, 1, 1)]);
      const rows = await sql<{ id: number; n: number }>`select id, n from deadlock_probe order by id`.execute(
        t.db,
      );
      // Each transaction added one to each row exactly once: the victim's first attempt was rolled back.
      expect(rows.rows.map((row) => [Number(row.id), Number(row.n)])).toEqual([
        [1, 2],
        [2, 2],
      ]);
    });
  },
);
