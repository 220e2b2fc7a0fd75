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

/**
 * Until some transaction waits for a row lock (the statement under test, blocked by the open transaction). Bounded
 * generously: on a busy box the statement can take seconds to reach the server; it returns as soon as it waits.
 */
async function waitForLockWait(t: TestDatabase, statement: { settled: string | undefined }): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const waiting = await sql<{
      n: number;
    }>`select count(*) as n from information_schema.innodb_trx where trx_state = 'LOCK WAIT'`.execute(t.db);
    if (Number(waiting.rows[0]?.n ?? 0) > 0) return;
    if (statement.settled !== undefined)
      throw new Error(`the statement ended without waiting for the lock: ${statement.settled}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the statement never waited for the transaction's lock (30 s)");
}

describe.each(testDatabases.filter((factory) => factory.name === "mysql"))(
  "transactions on $name",
  (factory) => {
    let t: TestDatabase;

    beforeAll(async () => {
      t = await factory.open();
      await sql`create table deadlock_probe (id int primary key, n int not null)`.execute(t.db);
      await sql`insert into deadlock_probe (id, n) values (1, 0), (2, 0)`.execute(t.db);
      await sql`create table deadlock_statement_probe (id int primary key, n int not null)`.execute(t.db);
      for (let id = 1; id <= 30; id++)
        await sql`insert into deadlock_statement_probe (id, n) values (${id}, 0)`.execute(t.db);
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

    it("runs an autocommit statement again when the server picks it as a deadlock victim", async () => {
      const heavy = await t.db.transaction().execute(async (tx) => {
        // The transaction changes many rows, so the server keeps it and rolls back the lone statement instead.
        await sql`update deadlock_statement_probe set n = n + 1 where id = 1 or id >= 3`.execute(tx);
        // One statement, no transaction: it locks row 2, then waits for row 1, which the transaction holds.
        const statement =
          sql`update deadlock_statement_probe set n = n + 10 where id in (1, 2) order by id desc`.execute(
            t.db,
          );
        const settle: { settled: string | undefined } = { settled: undefined };
        const outcome = statement.then(
          () => "done",
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
        void outcome.then((result) => {
          settle.settled = result;
        });
        await waitForLockWait(t, settle);
        // Now the transaction asks for row 2: a cycle, and the statement is the cheaper one to undo.
        await sql`update deadlock_statement_probe set n = n + 1 where id = 2`.execute(tx);
        // Handed out unawaited: the statement finishes only once this transaction commits.
        return { outcome };
      });
      expect(await heavy.outcome).toBe("done");
      const rows = await sql<{
        id: number;
        n: number;
      }>`select id, n from deadlock_statement_probe where id in (1, 2, 3) order by id`.execute(t.db);
      expect(rows.rows.map((row) => [Number(row.id), Number(row.n)])).toEqual([
        [1, 11],
        [2, 11],
        [3, 1],
      ]);
    });
  },
);
