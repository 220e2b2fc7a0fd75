import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import { createConnection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  BranchConnection,
  DatabaseBranches,
  DbBranch,
  DbRoot,
} from "../../src/server/integrations/database-branches/port";
import { ProviderError } from "../../src/server/integrations/provider-error";
import { rejectionOf } from "../helpers/errors";

/**
 * The DatabaseBranches contract: the same assertions for every adapter. Adapters with a real SQL server behind
 * their URLs (`realSql`) also get the data assertions — rows, foreign keys, indexes — run through a client that
 * knows nothing but the branch's DATABASE_URL, as the generated app does.
 */

export type DatabaseBranchesHarness = {
  adapter: DatabaseBranches;
  /** True when the returned databaseUrl reaches a real database: run the data assertions too. */
  realSql: boolean;
  cleanup?: () => Promise<void>;
};

export type SqlSession = {
  dialect: "mysql" | "sqlite";
  run(sql: string, args?: Array<string | number>): Promise<void>;
  rows(sql: string, args?: Array<string | number>): Promise<Array<Record<string, unknown>>>;
  indexNames(table: string): Promise<string[]>;
  close(): Promise<void>;
};

/** Connects from a databaseUrl alone (mysql:// via mysql2, file: via @libsql/client), like the generated app. */
export async function connectByUrl(databaseUrl: string): Promise<SqlSession> {
  if (databaseUrl.startsWith("mysql://")) {
    const connection = await createConnection(databaseUrl);
    const rows = async (sql: string, args: Array<string | number> = []) => {
      const [result] = await connection.query<RowDataPacket[]>(sql, args);
      return result.map((row): Record<string, unknown> => ({ ...row }));
    };
    return {
      dialect: "mysql",
      run: async (sql, args = []) => {
        await connection.query(sql, args);
      },
      rows,
      indexNames: async (table) =>
        (
          await rows(
            "SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            [table],
          )
        )
          .map((row) => String(row.name))
          .sort(),
      close: () => connection.end(),
    };
  }
  if (databaseUrl.startsWith("file:")) {
    // One connection, so a PRAGMA applies to every later statement of this session.
    const client = createClient({ url: databaseUrl, concurrency: 1 });
    const rows = async (sql: string, args: Array<string | number> = []) =>
      (await client.execute({ sql, args })).rows.map((row) => ({ ...row }));
    return {
      dialect: "sqlite",
      run: async (sql, args = []) => {
        await client.execute({ sql, args });
      },
      rows,
      indexNames: async (table) =>
        (
          await rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name NOT LIKE 'sqlite_autoindex%'",
            [table],
          )
        )
          .map((row) => String(row.name))
          .sort(),
      close: async () => client.close(),
    };
  }
  throw new Error(`no test client for ${databaseUrl.split(":")[0]} URLs`);
}

export async function withSql<T>(connection: BranchConnection, work: (sql: SqlSession) => Promise<T>) {
  const sql = await connectByUrl(connection.databaseUrl);
  try {
    return await work(sql);
  } finally {
    await sql.close();
  }
}

const schema = {
  sqlite: [
    "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id), title TEXT NOT NULL)",
    "CREATE INDEX posts_title_idx ON posts (title)",
  ],
  mysql: [
    "CREATE TABLE authors (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL)",
    "CREATE TABLE posts (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, author_id INT NOT NULL, title VARCHAR(200) NOT NULL, INDEX posts_title_idx (title), CONSTRAINT posts_author_fk FOREIGN KEY (author_id) REFERENCES authors (id))",
  ],
};

async function seed(sql: SqlSession): Promise<void> {
  for (const statement of schema[sql.dialect]) await sql.run(statement);
  await sql.run("INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Edsger')");
  await sql.run(
    "INSERT INTO posts (id, author_id, title) VALUES (1, 1, 'Notes'), (2, 1, 'Engines'), (3, 2, 'Compilers'), (4, 3, 'GOTO'), (5, 3, 'Semaphores')",
  );
}

async function titles(connection: BranchConnection): Promise<string[]> {
  return withSql(connection, async (sql) =>
    (await sql.rows("SELECT title FROM posts ORDER BY id")).map((row) => String(row.title)),
  );
}

function expectProviderError(error: unknown, kind: ProviderError["kind"]): ProviderError {
  expect(error).toBeInstanceOf(ProviderError);
  if (!(error instanceof ProviderError)) throw error;
  expect(error.kind).toBe(kind);
  expect(error.message.length).toBeGreaterThan(20);
  return error;
}

function expectUsableUrl(connection: BranchConnection): void {
  const url = new URL(connection.databaseUrl);
  expect(["mysql:", "file:"]).toContain(url.protocol);
  if (url.protocol === "file:") {
    const file = connection.databaseUrl.slice("file:".length);
    expect(path.isAbsolute(file)).toBe(true);
    expect(connection.hostPaths).toContain(path.dirname(file));
  } else {
    expect(url.username).not.toBe("");
    expect(url.password.length).toBeGreaterThanOrEqual(24);
    expect(url.hostname).not.toBe("");
    expect(url.pathname.length).toBeGreaterThan(1);
  }
}

function idsOf(branches: DbBranch[]): string[] {
  return branches.map((branch) => branch.id);
}

export function describeDatabaseBranchesContract(
  label: string,
  makeHarness: () => Promise<DatabaseBranchesHarness>,
  /** Adapters with no SQL server reachable here (TiDB Cloud's fake) register only the lifecycle assertions. */
  capabilities: { realSql: boolean },
): void {
  describe(`DatabaseBranches contract: ${label}`, () => {
    let harness: DatabaseBranchesHarness;
    let adapter: DatabaseBranches;
    let root: DbRoot;
    let main: DbBranch;
    let mainConnection: BranchConnection;
    const rootName = `ct-${randomBytes(4).toString("hex")}`;
    const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}`;

    beforeAll(async () => {
      harness = await makeHarness();
      adapter = harness.adapter;
      ({ root, main, connection: mainConnection } = await adapter.createRoot({ name: rootName }));
      if (harness.realSql) await withSql(mainConnection, seed);
    });

    afterAll(async () => {
      await adapter?.deleteRoot(root).catch((error: unknown) => {
        console.error(`cleanup of ${label} root failed`, error);
      });
      await harness?.cleanup?.();
    });

    it("createRoot makes a root with an active main branch and is idempotent by name", async () => {
      expect(root).toMatchObject({ kind: adapter.kind, name: rootName });
      expect(main).toMatchObject({ name: "main", parentId: null, state: "active" });
      expectUsableUrl(mainConnection);

      const again = await adapter.createRoot({ name: rootName });
      expect(again.root).toEqual(root);
      expect(again.main.id).toBe(main.id);
      // Passwords are never read back, so asking again may have replaced them: use the newest connection.
      mainConnection = again.connection;
      if (harness.realSql) expect(await titles(mainConnection)).toHaveLength(5);
      expect(idsOf(await adapter.listBranches(root))).toEqual([main.id]);
      expect(await adapter.getBranch(root, main.id)).toEqual(main);
    });

    it("createBranch forks the main branch when no parent is given, and records the parent", async () => {
      const { branch, connection } = await adapter.createBranch(root, { name: unique("fork") });
      expect(branch).toMatchObject({ parentId: main.id, state: "active" });
      expectUsableUrl(connection);
      expect(connection.databaseUrl).not.toBe(mainConnection.databaseUrl);
      expect(await adapter.getBranch(root, branch.id)).toEqual(branch);
      expect(idsOf(await adapter.listBranches(root))).toEqual(expect.arrayContaining([main.id, branch.id]));
    });

    it("createBranch is idempotent by name", async () => {
      const name = unique("twice");
      const first = await adapter.createBranch(root, { name });
      const second = await adapter.createBranch(root, { name });
      expect(second.branch).toEqual(first.branch);
      expect(idsOf(await adapter.listBranches(root)).filter((id) => id === first.branch.id)).toHaveLength(1);
    });

    it("a branch of a branch records its own parent", async () => {
      const child = await adapter.createBranch(root, { name: unique("child") });
      const grandchild = await adapter.createBranch(root, {
        name: unique("grand"),
        parentId: child.branch.id,
      });
      expect(grandchild.branch.parentId).toBe(child.branch.id);
      expect(await adapter.getBranch(root, grandchild.branch.id)).toMatchObject({
        parentId: child.branch.id,
        state: "active",
      });
    });

    it("connect returns usable credentials for an existing branch and not_found for a missing one", async () => {
      const { branch } = await adapter.createBranch(root, { name: unique("conn") });
      const connection = await adapter.connect(root, branch.id);
      expectUsableUrl(connection);
      if (harness.realSql) expect(await titles(connection)).toHaveLength(5);
      expectProviderError(await rejectionOf(adapter.connect(root, "no-such-branch")), "not_found");
    });

    it("getBranch of an unknown id is null", async () => {
      expect(await adapter.getBranch(root, "no-such-branch")).toBeNull();
    });

    it("refuses to branch from a parent that does not exist", async () => {
      const error = await rejectionOf(
        adapter.createBranch(root, { name: unique("orphan"), parentId: "no-such-branch" }),
      );
      expectProviderError(error, "not_found");
    });

    it("point-in-time branches work only where supported", async () => {
      const attempt = adapter.createBranch(root, {
        name: unique("pitr"),
        atTime: new Date(Date.now() - 60_000),
      });
      if (adapter.supportsPointInTime) {
        expect((await attempt).branch.parentId).toBe(main.id);
      } else {
        expectProviderError(await rejectionOf(attempt), "unsupported");
      }
    });

    it("the main branch cannot be deleted or reset on its own", async () => {
      expectProviderError(await rejectionOf(adapter.deleteBranch(root, main.id)), "invalid");
      expectProviderError(await rejectionOf(adapter.resetBranch(root, main.id)), "invalid");
      expect(await adapter.getBranch(root, main.id)).toMatchObject({ state: "active" });
    });

    it("resetBranch leaves the branch active", async () => {
      const { branch } = await adapter.createBranch(root, { name: unique("reset") });
      await adapter.resetBranch(root, branch.id);
      expect(await adapter.getBranch(root, branch.id)).toMatchObject({ id: branch.id, state: "active" });
    });

    it("deleteBranch removes the branch from get and list, and is idempotent", async () => {
      const { branch } = await adapter.createBranch(root, { name: unique("gone") });
      await adapter.deleteBranch(root, branch.id);
      expect(await adapter.getBranch(root, branch.id)).toBeNull();
      expect(idsOf(await adapter.listBranches(root))).not.toContain(branch.id);
      await adapter.deleteBranch(root, branch.id);
    });

    it("deleteRoot removes the root and is idempotent", async () => {
      const other = await adapter.createRoot({ name: `${rootName}-x` });
      await adapter.createBranch(other.root, { name: "doomed" });
      await adapter.deleteRoot(other.root);
      expect(await adapter.getBranch(other.root, other.main.id)).toBeNull();
      await adapter.deleteRoot(other.root);
    });

    if (capabilities.realSql) {
      describe("data (real SQL behind the URL)", () => {
        it("a branch starts with the parent's rows", async () => {
          const { connection } = await adapter.createBranch(root, { name: unique("rows") });
          expect(await titles(connection)).toEqual(["Notes", "Engines", "Compilers", "GOTO", "Semaphores"]);
        });

        it("writes in a branch stay out of the parent, and later parent writes stay out of the branch", async () => {
          const { connection } = await adapter.createBranch(root, { name: unique("diverge") });
          await withSql(connection, (sql) =>
            sql.run("INSERT INTO posts (id, author_id, title) VALUES (100, 2, 'Branch only')"),
          );
          await withSql(mainConnection, (sql) =>
            sql.run("INSERT INTO posts (id, author_id, title) VALUES (200, 2, 'Main only')"),
          );
          try {
            expect(await titles(connection)).toContain("Branch only");
            expect(await titles(connection)).not.toContain("Main only");
            expect(await titles(mainConnection)).toContain("Main only");
            expect(await titles(mainConnection)).not.toContain("Branch only");
          } finally {
            await withSql(mainConnection, (sql) => sql.run("DELETE FROM posts WHERE id = 200"));
          }
        });

        it("foreign keys survive the copy: a violating insert fails in the branch", async () => {
          const { connection } = await adapter.createBranch(root, { name: unique("fk") });
          await withSql(connection, async (sql) => {
            if (sql.dialect === "sqlite") await sql.run("PRAGMA foreign_keys = ON");
            const error = await rejectionOf(
              sql.run("INSERT INTO posts (id, author_id, title) VALUES (300, 999, 'Nobody wrote this')"),
            );
            expect(String(error)).toMatch(/foreign key/i);
            await sql.run("INSERT INTO posts (id, author_id, title) VALUES (301, 1, 'Ada again')");
            expect(await sql.rows("SELECT id FROM posts WHERE id IN (300, 301)")).toEqual([{ id: 301 }]);
          });
        });

        it("indexes survive the copy", async () => {
          const { connection } = await adapter.createBranch(root, { name: unique("idx") });
          const parentIndexes = await withSql(mainConnection, (sql) => sql.indexNames("posts"));
          expect(parentIndexes).toContain("posts_title_idx");
          expect(await withSql(connection, (sql) => sql.indexNames("posts"))).toEqual(parentIndexes);
        });

        it("a branch of a branch carries the intermediate branch's changes", async () => {
          const child = await adapter.createBranch(root, { name: unique("mid") });
          await withSql(child.connection, (sql) =>
            sql.run("INSERT INTO posts (id, author_id, title) VALUES (400, 3, 'From the middle')"),
          );
          const grandchild = await adapter.createBranch(root, {
            name: unique("leaf"),
            parentId: child.branch.id,
          });
          expect(await titles(grandchild.connection)).toContain("From the middle");
          expect(await titles(mainConnection)).not.toContain("From the middle");
        });

        it("inspectBranch lists the app's tables, columns and applied migrations, leaving out views and Kysely's bookkeeping", async () => {
          const { connection } = await adapter.createBranch(root, { name: unique("look") });
          await withSql(connection, async (sql) => {
            // The tables Kysely's Migrator keeps, as it creates them.
            await sql.run(
              "CREATE TABLE kysely_migration (name VARCHAR(255) NOT NULL PRIMARY KEY, timestamp VARCHAR(255) NOT NULL)",
            );
            await sql.run(
              "CREATE TABLE kysely_migration_lock (id VARCHAR(255) NOT NULL PRIMARY KEY, is_locked INTEGER NOT NULL DEFAULT 0)",
            );
            await sql.run(
              "INSERT INTO kysely_migration (name, timestamp) VALUES ('0002_posts', '2026-01-02T00:00:00.000Z'), ('0001_authors', '2026-01-01T00:00:00.000Z')",
            );
            await sql.run("CREATE VIEW post_titles AS SELECT title FROM posts");
          });

          const inspected = await adapter.inspectBranch(connection);
          expect(
            inspected.tables.map((table) => ({
              name: table.name,
              columns: table.columns.map((column) => column.name),
            })),
          ).toEqual([
            { name: "authors", columns: ["id", "name"] },
            { name: "posts", columns: ["id", "author_id", "title"] },
          ]);
          const posts = inspected.tables.find((table) => table.name === "posts");
          expect(posts?.columns.find((column) => column.name === "title")).toMatchObject({
            nullable: false,
            type: expect.stringMatching(/^varchar|^text/i),
          });
          expect(inspected.migrations).toEqual([
            { name: "0001_authors", appliedAt: "2026-01-01T00:00:00.000Z" },
            { name: "0002_posts", appliedAt: "2026-01-02T00:00:00.000Z" },
          ]);
        });

        it("inspectBranch of a branch the app never migrated has its tables and no migrations", async () => {
          const inspected = await adapter.inspectBranch(mainConnection);
          expect(inspected.tables.map((table) => table.name)).toEqual(["authors", "posts"]);
          expect(inspected.migrations).toEqual([]);
        });

        it("inspectBranch of a deleted branch fails as a ProviderError without its secrets, recreating nothing", async () => {
          const { branch, connection } = await adapter.createBranch(root, { name: unique("bye") });
          await adapter.deleteBranch(root, branch.id);
          const error = await rejectionOf(adapter.inspectBranch(connection));
          expect(error).toBeInstanceOf(ProviderError);
          if (!(error instanceof ProviderError)) throw error;
          expect(["not_found", "unavailable"]).toContain(error.kind);
          const url = new URL(connection.databaseUrl);
          if (url.password) expect(String(error)).not.toContain(url.password);
          if (url.protocol === "file:") {
            expect(fs.existsSync(connection.databaseUrl.slice("file:".length))).toBe(false);
          }
          expect(await adapter.getBranch(root, branch.id)).toBeNull();
        });

        it("resetBranch throws the branch's changes away and restores the parent's current state", async () => {
          const { branch, connection } = await adapter.createBranch(root, { name: unique("undo") });
          await withSql(connection, async (sql) => {
            await sql.run("DELETE FROM posts WHERE id = 1");
            await sql.run("UPDATE authors SET name = 'Changed' WHERE id = 2");
            await sql.run("CREATE TABLE scratch (id INTEGER PRIMARY KEY)");
          });
          await adapter.resetBranch(root, branch.id);
          const fresh = await adapter.connect(root, branch.id);
          expect(await titles(fresh)).toEqual(await titles(mainConnection));
          await withSql(fresh, async (sql) => {
            expect(await sql.rows("SELECT name FROM authors WHERE id = 2")).toEqual([{ name: "Grace" }]);
            expect(String(await rejectionOf(sql.rows("SELECT * FROM scratch")))).toMatch(/scratch/);
          });
        });
      });
    }
  });
}
