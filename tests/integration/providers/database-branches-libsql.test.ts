import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLibsqlDatabaseBranches } from "../../../src/server/integrations/database-branches/libsql";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { describeDatabaseBranchesContract, withSql } from "../../contracts/database-branches";
import { rejectionOf } from "../../helpers/errors";

const dirs: string[] = [];
function tempRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-dbb-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describeDatabaseBranchesContract(
  "libsql",
  async () => ({ adapter: createLibsqlDatabaseBranches({ root: tempRoot() }), realSql: true }),
  { realSql: true },
);

describe("libsql adapter", () => {
  it("lays a root out as <root>/<name>/<branch>.db and hands the app the file URL and its directory", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root, connection } = await adapter.createRoot({ name: "shop" });
    expect(root).toEqual({ kind: "libsql", id: "shop", name: "shop" });
    expect(connection).toEqual({
      databaseUrl: `file:${path.join(base, "shop", "main.db")}`,
      hostPaths: [path.join(base, "shop")],
    });
    const { branch, connection: branchConnection } = await adapter.createBranch(root, { name: "rev-2" });
    expect(branch).toEqual({ id: "rev-2", name: "rev-2", parentId: "main", state: "active" });
    expect(branchConnection.databaseUrl).toBe(`file:${path.join(base, "shop", "rev-2.db")}`);
    const manifest: unknown = JSON.parse(
      fs.readFileSync(path.join(base, "shop", "kiln-branches.json"), "utf8"),
    );
    expect(manifest).toMatchObject({
      version: 1,
      branches: { main: { parentId: null }, "rev-2": { parentId: "main" } },
    });
    expect(fs.readdirSync(path.join(base, "shop")).sort()).toEqual([
      "kiln-branches.json",
      "main.db",
      "rev-2.db",
    ]);
  });

  it("refuses names and ids that could escape the root directory", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root } = await adapter.createRoot({ name: "safe" });
    for (const name of ["..", "../x", "a/b", "A", "", "-x", "x".repeat(64), "a.db", "a\u0000b"]) {
      const error = await rejectionOf(adapter.createBranch(root, { name }));
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ vendor: "libsql", kind: "invalid" });
      const rootError = await rejectionOf(adapter.createRoot({ name }));
      expect(rootError).toMatchObject({ kind: "invalid" });
    }
    for (const id of ["../safe/main", "/etc/passwd", "..", "main.db"]) {
      expect(await rejectionOf(adapter.getBranch(root, id))).toMatchObject({ kind: "invalid" });
      expect(await rejectionOf(adapter.connect(root, id))).toMatchObject({ kind: "invalid" });
      expect(await rejectionOf(adapter.deleteBranch(root, id))).toMatchObject({ kind: "invalid" });
      expect(await rejectionOf(adapter.listBranches({ ...root, id }))).toMatchObject({ kind: "invalid" });
    }
    expect(fs.readdirSync(base)).toEqual(["safe"]);
  });

  it("refuses a manifest whose parent ids were tampered with", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root } = await adapter.createRoot({ name: "tamper" });
    await adapter.createBranch(root, { name: "b1" });
    const file = path.join(base, "tamper", "kiln-branches.json");
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    manifest.branches.b1.parentId = "../../etc/passwd";
    fs.writeFileSync(file, JSON.stringify(manifest));
    const error = await rejectionOf(adapter.resetBranch(root, "b1"));
    expect(error).toMatchObject({ vendor: "libsql", kind: "internal" });
    expect(String(error)).toMatch(/kiln-branches\.json is not a valid branch manifest/);
  });

  it("copies the parent consistently while another process keeps writing to it (WAL)", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root, connection } = await adapter.createRoot({ name: "busy" });
    await withSql(connection, async (sql) => {
      await sql.run("PRAGMA journal_mode = WAL");
      await sql.run("CREATE TABLE a (id INTEGER PRIMARY KEY, pad TEXT)");
      await sql.run("CREATE TABLE b (id INTEGER PRIMARY KEY, pad TEXT)");
      // Some bulk, so that copying the file takes long enough for the writer to move on meanwhile.
      await sql.run("CREATE TABLE bulk (pad TEXT)");
      await sql.run(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO bulk SELECT randomblob(2000) FROM n",
      );
    });
    // Each transaction adds the same id to both tables: any copy that is not a snapshot shows different counts.
    const writer = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
        import { createClient } from "@libsql/client";
        const db = createClient({ url: process.argv[1], timeout: 5000, concurrency: 1 });
        // Checkpoint after every commit: the WAL restarts constantly, the case a naive copy gets wrong.
        await db.execute("PRAGMA wal_autocheckpoint = 1");
        const pad = "x".repeat(2000);
        for (let i = 1; ; i++) {
          await db.batch([
            { sql: "INSERT INTO a (id, pad) VALUES (?, ?)", args: [i, pad] },
            { sql: "INSERT INTO b (id, pad) VALUES (?, ?)", args: [i, pad] },
          ], "write");
          if (i === 50) console.log("writing");
        }
        `,
        connection.databaseUrl,
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout?.once("data", () => resolve());
        writer.once("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      const counts: number[] = [];
      for (let i = 0; i < 12; i++) {
        const { connection: copy } = await adapter.createBranch(root, { name: `snap-${i}` });
        await withSql(copy, async (sql) => {
          const [row] = await sql.rows(
            "SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, (SELECT max(id) FROM a) AS top",
          );
          expect(row?.a).toBe(row?.b);
          expect(row?.a).toBe(row?.top);
          expect(await sql.rows("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
          counts.push(Number(row?.a));
        });
      }
      // The writer really was writing during the copies.
      expect(new Set(counts).size).toBeGreaterThan(3);
      expect(fs.readdirSync(path.join(base, "busy")).filter((file) => file.includes(".tmp-"))).toEqual([]);
    } finally {
      writer.kill();
    }
  });

  it("reset replaces the branch file and drops its stale WAL", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root, connection } = await adapter.createRoot({ name: "walreset" });
    await withSql(connection, async (sql) => {
      await sql.run("PRAGMA journal_mode = WAL");
      await sql.run("CREATE TABLE t (id INTEGER PRIMARY KEY)");
      await sql.run("INSERT INTO t (id) VALUES (1)");
    });
    const { branch, connection: copy } = await adapter.createBranch(root, { name: "w" });
    await withSql(copy, async (sql) => {
      expect(await sql.rows("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
      await sql.run("INSERT INTO t (id) VALUES (2)");
    });
    await adapter.resetBranch(root, branch.id);
    await withSql(copy, async (sql) => {
      expect(await sql.rows("SELECT id FROM t")).toEqual([{ id: 1 }]);
      expect(await sql.rows("PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
    });
  });

  it("remembers parents across adapter instances (the manifest is the record)", async () => {
    const base = tempRoot();
    const first = createLibsqlDatabaseBranches({ root: base });
    const { root } = await first.createRoot({ name: "persist" });
    await first.createBranch(root, { name: "a" });
    await first.createBranch(root, { name: "b", parentId: "a" });
    const second = createLibsqlDatabaseBranches({ root: base });
    expect(await second.listBranches(root)).toEqual([
      { id: "main", name: "main", parentId: null, state: "active" },
      { id: "a", name: "a", parentId: "main", state: "active" },
      { id: "b", name: "b", parentId: "a", state: "active" },
    ]);
  });

  it("serializes concurrent branch creation on one root without losing manifest entries", async () => {
    const base = tempRoot();
    const adapter = createLibsqlDatabaseBranches({ root: base });
    const { root } = await adapter.createRoot({ name: "many" });
    await Promise.all(Array.from({ length: 8 }, (_, i) => adapter.createBranch(root, { name: `c${i}` })));
    expect((await adapter.listBranches(root)).map((b) => b.id).sort()).toEqual([
      "c0",
      "c1",
      "c2",
      "c3",
      "c4",
      "c5",
      "c6",
      "c7",
      "main",
    ]);
  });

  it("names the conflict when a branch name is reused with another parent", async () => {
    const adapter = createLibsqlDatabaseBranches({ root: tempRoot() });
    const { root } = await adapter.createRoot({ name: "dup" });
    await adapter.createBranch(root, { name: "x" });
    await adapter.createBranch(root, { name: "y" });
    const error = await rejectionOf(adapter.createBranch(root, { name: "y", parentId: "x" }));
    expect(error).toMatchObject({ vendor: "libsql", kind: "conflict" });
    expect(String(error)).toMatch(/Branch y already exists with parent main, not x/);
  });

  it("reports a root that does not exist as not_found", async () => {
    const adapter = createLibsqlDatabaseBranches({ root: tempRoot() });
    const root = { kind: "libsql" as const, id: "nope", name: "nope" };
    expect(await rejectionOf(adapter.listBranches(root))).toMatchObject({ kind: "not_found" });
    expect(await rejectionOf(adapter.createBranch(root, { name: "x" }))).toMatchObject({ kind: "not_found" });
    expect(await adapter.getBranch(root, "main")).toBeNull();
    await adapter.deleteBranch(root, "x");
  });
});
