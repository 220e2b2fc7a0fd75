import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { type Dialect, Kysely, type Migration, Migrator, MysqlDialect, sql } from "kysely";
import { createPool } from "mysql2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { encryptSecret } from "@/server/crypto/encryption";
import { mysqlPoolOptions } from "@/server/db/connection";
import { newId } from "@/server/ids";
import { createLibsqlDatabaseBranches } from "@/server/integrations/database-branches/libsql";
import { createMysqlDatabaseBranches } from "@/server/integrations/database-branches/mysql";
import type { BranchConnection, DatabaseBranches } from "@/server/integrations/database-branches/port";
import { type CreatedProject, createProject } from "@/server/operations/create-project";
import { describeRevisionDatabase, readRevisionTableRows } from "@/server/revisions/revision-database";
import { createThrowawayMysqlDatabase, type TestDatabase, testDatabases } from "../helpers/databases";
import { appErrorOf } from "../helpers/errors";
import { localProviderChoices } from "../helpers/local-providers";

// The DATABASE tab's server side: a checkpoint's branch, migrated by Kysely's Migrator exactly as the generated
// app migrates it, then described through the control plane (ownership, decryption, retention) on a real database
// and read by the branch's real DatabaseBranches adapter.

const local = localProviderChoices;
const key = Buffer.alloc(32, 7);
const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;

/** The app's migrations: what a generated app's `migrations/` folder would hold. */
const appMigrations: Record<string, Migration> = {
  "20260101000000_create_app_meta": {
    async up(db) {
      await db.schema
        .createTable("app_meta")
        .addColumn("key", "varchar(100)", (c) => c.primaryKey().notNull())
        .addColumn("value", "text")
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("app_meta").execute();
    },
  },
  "20260102000000_create_todos": {
    async up(db) {
      await db.schema
        .createTable("todos")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("title", "varchar(200)", (c) => c.notNull())
        .addColumn("note", "text")
        .execute();
      await sql`create view open_todos as select id, title from todos`.execute(db);
    },
    async down(db) {
      await db.schema.dropTable("todos").execute();
    },
  },
};

type BranchKind = {
  name: "libsql" | "mysql";
  /** A new branch database and the adapter that reads it; `dialect` opens it as the app would. */
  make(dir: string): Promise<{
    connection: BranchConnection;
    branches: DatabaseBranches;
    dialect: () => Dialect;
    drop(): Promise<void>;
  }>;
  /** How the dialect names the column types declared above. */
  types: { varchar: string; text: string; integer: string };
};

const branchKinds: BranchKind[] = [
  {
    name: "libsql",
    async make(dir) {
      const branches = createLibsqlDatabaseBranches({ root: path.join(dir, "databases") });
      const { root } = await branches.createRoot({ name: "p-app" });
      const { connection } = await branches.createBranch(root, { name: "r1-branch" });
      return {
        connection,
        branches,
        dialect: () => new LibsqlDialect({ url: connection.databaseUrl }),
        drop: async () => undefined,
      };
    },
    types: { varchar: "varchar(200)", text: "TEXT", integer: "INTEGER" },
  },
  ...(mysqlUrl
    ? [
        {
          name: "mysql" as const,
          async make() {
            const throwaway = await createThrowawayMysqlDatabase(mysqlUrl, "kiln_branch");
            const branches = createMysqlDatabaseBranches({ adminUrl: mysqlUrl });
            return {
              connection: { databaseUrl: throwaway.url, hostPaths: [] },
              branches,
              dialect: () => new MysqlDialect({ pool: createPool(mysqlPoolOptions(throwaway.url)) }),
              drop: async () => {
                await branches.close();
                await throwaway.drop();
              },
            };
          },
          types: { varchar: "varchar", text: "text", integer: "int" },
        },
      ]
    : []),
];

describe.each(testDatabases)("revision database on a $name control plane", (factory) => {
  let t: TestDatabase;
  let dir: string;
  let ada: string;
  let grace: string;
  let created: CreatedProject;

  beforeEach(async () => {
    t = await factory.open();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-revision-database-test-"));
    const operator = (email: string) =>
      createOperator(t.db, { email, password: "correct horse battery" }, { bcryptCost: 4 });
    ada = (await operator("ada@example.com")).id;
    grace = (await operator("grace@example.com")).id;
    created = await createProject(t.db, ada, { prompt: "A todo app" }, local);
  });
  afterEach(async () => {
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Records `connection` as the checkpoint's branch, encrypted the way provisioning stores it. */
  async function attachBranch(connection: BranchConnection, provider: string): Promise<string> {
    const rowId = newId("dbBranch");
    const now = Date.now();
    await t.db
      .insertInto("db_branch")
      .values({
        id: rowId,
        project_id: created.project.id,
        provider,
        external_id: "r1-branch",
        name: "r1-branch",
        parent_branch_id: null,
        status: "active",
        connection_ciphertext: encryptSecret(key, JSON.stringify(connection), `db_branch:${rowId}`),
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
    await t.db
      .updateTable("revision")
      .set({ db_branch_id: rowId })
      .where("id", "=", created.revision.id)
      .execute();
    return rowId;
  }

  /** The DATABASE tab's read, with `branches` as the project's adapter. */
  function describeAs(userId: string, branches: DatabaseBranches) {
    return describeRevisionDatabase(t.db, key, userId, created.revision.id, async () => branches);
  }

  describe.each(branchKinds)("with a $name branch", (kind) => {
    it("describes the app's tables and the migrations applied, leaving out Kysely's own tables", async () => {
      const branch = await kind.make(dir);
      try {
        const app = new Kysely<unknown>({ dialect: branch.dialect() });
        const result = await new Migrator({
          db: app,
          provider: { getMigrations: async () => appMigrations },
        }).migrateToLatest();
        await app.destroy();
        expect(result.error).toBeUndefined();
        await attachBranch(branch.connection, kind.name);

        const described = await describeAs(ada, branch.branches);
        expect(described.tables).toEqual([
          {
            name: "app_meta",
            columns: [
              { name: "key", type: kind.types.varchar.replace("200", "100"), nullable: false },
              { name: "value", type: kind.types.text, nullable: true },
            ],
          },
          {
            name: "todos",
            columns: [
              { name: "id", type: kind.types.integer, nullable: kind.name === "libsql" },
              { name: "title", type: kind.types.varchar, nullable: false },
              { name: "note", type: kind.types.text, nullable: true },
            ],
          },
        ]);
        expect(described.migrations.map((m) => m.name)).toEqual(Object.keys(appMigrations));
        for (const migration of described.migrations) {
          expect(Number.isNaN(Date.parse(migration.appliedAt))).toBe(false);
        }
      } finally {
        await branch.drop();
      }
    });

    it("pages through a table's rows in its first column's order, values as text, for the owner only", async () => {
      const branch = await kind.make(dir);
      try {
        const app = new Kysely<{
          todos: { id: number; title: string; note: string | null };
        }>({ dialect: branch.dialect() });
        const result = await new Migrator({
          db: app as Kysely<unknown>,
          provider: { getMigrations: async () => appMigrations },
        }).migrateToLatest();
        expect(result.error).toBeUndefined();
        // 120 rows written out of order: the pages come back ordered by id.
        const ids = Array.from({ length: 120 }, (_, i) => ((i * 37) % 120) + 1);
        await app
          .insertInto("todos")
          .values(
            ids.map((id) => ({
              id,
              title: `todo ${id}`,
              note: id === 2 ? null : "x".repeat(id === 3 ? 900 : 3),
            })),
          )
          .execute();
        await app.destroy();
        await attachBranch(branch.connection, kind.name);
        const read = (userId: string, query: { table: string; page: number }) =>
          readRevisionTableRows(t.db, key, userId, created.revision.id, query, async () => branch.branches);

        const first = await read(ada, { table: "todos", page: 1 });
        expect(first.columns).toEqual(["id", "title", "note"]);
        expect(first.total).toBe(120);
        expect(first.rows).toHaveLength(50);
        expect(first.rows.slice(0, 3)).toEqual([
          ["1", "todo 1", "xxx"],
          ["2", "todo 2", null],
          ["3", "todo 3", `${"x".repeat(500)}…`],
        ]);
        const third = await read(ada, { table: "todos", page: 3 });
        expect(third.offset).toBe(100);
        expect(third.rows.map((row) => row[0])).toEqual(
          Array.from({ length: 20 }, (_, i) => String(101 + i)),
        );

        // Only the app's tables: not Kysely's bookkeeping, not a view, not a name the app lacks (nor SQL).
        for (const table of ["kysely_migration", "open_todos", "nope", "todos; drop table todos"]) {
          expect((await appErrorOf(read(ada, { table, page: 1 }))).code).toBe("not_found:table");
        }
        expect((await appErrorOf(read(grace, { table: "todos", page: 1 }))).code).toBe("not_found:revision");
        expect((await read(ada, { table: "todos", page: 1 })).total).toBe(120);
      } finally {
        await branch.drop();
      }
    });

    it("describes a branch the app never migrated as empty", async () => {
      const branch = await kind.make(dir);
      try {
        await attachBranch(branch.connection, kind.name);
        expect(await describeAs(ada, branch.branches)).toEqual({
          tables: [],
          migrations: [],
        });
      } finally {
        await branch.drop();
      }
    });
  });

  it("hides the checkpoint from another operator, and refuses one with no branch yet or a pruned branch", async () => {
    const branches = createLibsqlDatabaseBranches({ root: path.join(dir, "databases") });
    const none = await appErrorOf(describeAs(ada, branches));
    expect([none.code, none.status]).toEqual(["conflict:revision_not_ready", 409]);

    const { root } = await branches.createRoot({ name: "p-app" });
    const { connection } = await branches.createBranch(root, { name: "r1-branch" });
    const rowId = await attachBranch(connection, "libsql");
    const other = await appErrorOf(describeAs(grace, branches));
    expect(other.code).toBe("not_found:revision");

    await t.db
      .updateTable("db_branch")
      .set({ deleted_at: Date.now(), status: "deleted" })
      .where("id", "=", rowId)
      .execute();
    const pruned = await appErrorOf(describeAs(ada, branches));
    expect([pruned.code, pruned.status]).toEqual(["conflict:branch_pruned", 409]);
    expect(pruned.message).toContain("Checkpoint 1");
  });

  it("reports a missing branch file without recreating it, and an unreachable server without its password", async () => {
    const missing = path.join(dir, "gone.db");
    await attachBranch({ databaseUrl: `file:${missing}`, hostPaths: [dir] }, "libsql");
    const libsql = createLibsqlDatabaseBranches({ root: path.join(dir, "databases") });
    const gone = await appErrorOf(describeAs(ada, libsql));
    expect([gone.code, gone.status]).toEqual(["unavailable:database", 503]);
    expect(fs.existsSync(missing)).toBe(false);

    // Port 1 on loopback refuses at once: nothing listens there.
    await attachBranch({ databaseUrl: "mysql://app:s3cret-pass@127.0.0.1:1/app", hostPaths: [] }, "mysql");
    const started = Date.now();
    // The adapter never reaches its admin server here: inspection uses the branch's own connection.
    const mysql = createMysqlDatabaseBranches({ adminUrl: "mysql://root@127.0.0.1:1/" });
    const refused = await appErrorOf(describeAs(ada, mysql));
    expect(refused.code).toBe("unavailable:database");
    expect(refused.message).toContain("Could not read checkpoint 1's database");
    expect(refused.message).not.toContain("s3cret-pass");
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
