import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { createConnection } from "mysql2/promise";
import { createLibsqlDatabaseBranches } from "../../src/server/integrations/database-branches/libsql";
import { createMysqlDatabaseBranches } from "../../src/server/integrations/database-branches/mysql";
import { type BenchRow, measure } from "./stats";

// Branch creation on the local adapters: libSQL (a 10 MB file) always; MySQL (20 tables × 10k rows) when
// KILN_TEST_MYSQL_URL is set. Setup fills the parents with large multi-row statements so it stays quick.

async function benchLibsql(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-dbb-"));
  try {
    const adapter = createLibsqlDatabaseBranches({ root: dir });
    const { root, connection } = await adapter.createRoot({ name: "bench" });
    const client = createClient({ url: connection.databaseUrl });
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute(
      "CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, body TEXT NOT NULL)",
    );
    await client.execute("CREATE INDEX items_owner ON items (owner)");
    const body = "x".repeat(200);
    for (let batch = 0; batch < 45; batch++) {
      const values = Array.from({ length: 1000 }, (_, i) => `(${batch * 1000 + i}, ${i % 97}, '${body}')`);
      await client.execute(`INSERT INTO items (id, owner, body) VALUES ${values.join(", ")}`);
    }
    // Leave the parent as a live app would: part of it still in the WAL.
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    await client.execute(`UPDATE items SET body = '${"y".repeat(200)}' WHERE id < 2000`);
    client.close();
    const file = connection.databaseUrl.slice("file:".length);
    const megabytes = (fs.statSync(file).size + fs.statSync(`${file}-wal`).size) / 1_048_576;
    const rows: BenchRow[] = [];
    rows.push(
      await measure(
        `[libsql] branch a ${megabytes.toFixed(1)} MB database (file + WAL, copy under write lock)`,
        20,
        (i) => adapter.createBranch(root, { name: `b${i < 0 ? `w${-i}` : i}` }),
        { goal: "≤ 50 ms" },
      ),
    );
    rows.push(
      await measure("[libsql] reset a branch of it (recopy from the parent)", 10, () =>
        adapter.resetBranch(root, "b0"),
      ),
    );
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function benchMysql(adminUrl: string): Promise<BenchRow[]> {
  const adapter = createMysqlDatabaseBranches({ adminUrl, prefix: `kb${randomBytes(2).toString("hex")}_` });
  const { root, connection } = await adapter.createRoot({ name: "bench" });
  try {
    const app = await createConnection(connection.databaseUrl);
    try {
      await app.query("SET SESSION foreign_key_checks = 0");
      for (let table = 0; table < 20; table++) {
        const reference =
          table === 0
            ? ""
            : ", CONSTRAINT t%_user FOREIGN KEY (user_id) REFERENCES t0 (id)".replace("%", `${table}`);
        await app.query(
          `CREATE TABLE t${table} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(100) NOT NULL, body VARCHAR(255) NOT NULL, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY t${table}_title (title)${reference})`,
        );
        for (let batch = 0; batch < 5; batch++) {
          const values = Array.from(
            { length: 2000 },
            (_, i) =>
              `(${batch * 2000 + i + 1}, ${(i % 500) + 1}, 'title ${i}', 'body of row ${i} in table ${table}')`,
          );
          await app.query(`INSERT INTO t${table} (id, user_id, title, body) VALUES ${values.join(", ")}`);
        }
      }
    } finally {
      await app.end();
    }
    return [
      await measure(
        "[mysql] branch 20 tables × 10k rows (DDL replay + INSERT…SELECT, 4 connections)",
        5,
        (i) => adapter.createBranch(root, { name: `b${i < 0 ? `w${-i}` : i}` }),
        { warmup: 1, goal: "≤ 1.5 s" },
      ),
    ];
  } finally {
    await adapter.deleteRoot(root);
    await adapter.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows = await benchLibsql();
  const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;
  if (mysqlUrl) rows.push(...(await benchMysql(mysqlUrl)));
  return rows;
}
