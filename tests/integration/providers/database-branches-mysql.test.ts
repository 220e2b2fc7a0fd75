import { randomBytes } from "node:crypto";
import { createConnection, type RowDataPacket } from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import {
  branchDatabaseUrl,
  branchUserName,
  createMysqlDatabaseBranches,
  type MysqlDatabaseBranches,
} from "../../../src/server/integrations/database-branches/mysql";
import { rewriteView } from "../../../src/server/integrations/database-branches/mysql-clone";
import { ProviderError } from "../../../src/server/integrations/provider-error";
import { connectByUrl, describeDatabaseBranchesContract, withSql } from "../../contracts/database-branches";
import { rejectionOf } from "../../helpers/errors";

const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;
const adapters: MysqlDatabaseBranches[] = [];
function adapter(options: { prefix?: string; adminUrl?: string } = {}): MysqlDatabaseBranches {
  const made = createMysqlDatabaseBranches({
    adminUrl: options.adminUrl ?? mysqlUrl ?? "mysql://root@127.0.0.1:3306/",
    prefix: options.prefix ?? `kt${randomBytes(2).toString("hex")}_`,
  });
  adapters.push(made);
  return made;
}
afterAll(async () => {
  await Promise.all(adapters.map((made) => made.close()));
});

describe("mysql adapter: pure parts", () => {
  it("builds the app's URL from the admin URL's host, port and TLS settings only", () => {
    const url = branchDatabaseUrl(
      'mysql://root:adminpw@db.internal:3307/admin?ssl={"rejectUnauthorized":true}&connectionLimit=50',
      "kb_abc",
      "Secret123",
      "kiln_shop__main",
    );
    const parsed = new URL(url);
    expect(parsed.host).toBe("db.internal:3307");
    expect(parsed.username).toBe("kb_abc");
    expect(parsed.password).toBe("Secret123");
    expect(parsed.pathname).toBe("/kiln_shop__main");
    expect([...parsed.searchParams.keys()]).toEqual(["ssl"]);
    expect(JSON.parse(parsed.searchParams.get("ssl") ?? "")).toEqual({ rejectUnauthorized: true });
    expect(url).not.toContain("adminpw");
  });

  it("derives short, stable user names", () => {
    expect(branchUserName("kiln_shop__main")).toMatch(/^kb_[0-9a-f]{24}$/);
    expect(branchUserName("kiln_shop__main")).toBe(branchUserName("kiln_shop__main"));
    expect(branchUserName("kiln_shop__main")).not.toBe(branchUserName("kiln_shop__rev-2"));
  });

  it("rewrites a view to run as its invoker inside the new database", () => {
    const rewritten = rewriteView(
      "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select `a__main`.`t`.`id` AS `id` from `a__main`.`t`",
      "a__main",
      "a__b",
    );
    expect(rewritten).toBe(
      "CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `v` AS select `a__b`.`t`.`id` AS `id` from `a__b`.`t`",
    );
  });
});

describe.runIf(mysqlUrl)("mysql adapter (KILN_TEST_MYSQL_URL)", () => {
  describeDatabaseBranchesContract("mysql", async () => ({ adapter: adapter(), realSql: true }), {
    realSql: true,
  });
});

describe.runIf(mysqlUrl)("mysql adapter specifics (KILN_TEST_MYSQL_URL)", () => {
  const admin = async () => createConnection(mysqlUrl ?? "");

  it("gives each branch a user that sees only its own database", async () => {
    const branches = adapter();
    const { root, connection: mainConnection } = await branches.createRoot({ name: "iso" });
    await withSql(mainConnection, (sql) => sql.run("CREATE TABLE secrets (v VARCHAR(20))"));
    const { branch, connection } = await branches.createBranch(root, { name: "a" });
    const other = await branches.createBranch(root, { name: "b" });
    // With unescaped "_" wildcards in GRANT, a grant on <root>__a would also match <root>xya.
    const lookalike = `${root.id}xya`;
    const server = await admin();
    try {
      await server.query(`CREATE DATABASE \`${lookalike}\``);
      await server.query(`CREATE TABLE \`${lookalike}\`.t (v INT)`);
      await withSql(connection, async (sql) => {
        const databases = (await sql.rows("SHOW DATABASES")).map((row) => String(row.Database)).sort();
        expect(databases).toEqual([branch.id, "information_schema"].sort());
        for (const table of [
          `\`${root.id}__main\`.secrets`,
          `\`${lookalike}\`.t`,
          `\`${other.branch.id}\`.secrets`,
          `\`${root.id}___meta\`.kiln_branch`,
          "mysql.user",
        ]) {
          expect(String(await rejectionOf(sql.rows(`SELECT * FROM ${table}`)))).toMatch(/denied/i);
        }
        expect(await sql.rows("SELECT * FROM secrets")).toEqual([]);
      });
      const [grants] = await server.query<RowDataPacket[]>(
        `SHOW GRANTS FOR '${branchUserName(branch.id)}'@'%'`,
      );
      const lines = grants.map((row) => String(Object.values(row)[0]));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^GRANT USAGE ON \*\.\* TO/);
      expect(lines[1]).toMatch(/^GRANT ALL PRIVILEGES ON `[^`]+`\.\* TO/);
      expect(lines[1]).toContain(branch.id.replaceAll("_", "\\_"));
    } finally {
      await server.query(`DROP DATABASE IF EXISTS \`${lookalike}\``);
      await server.end();
      await branches.deleteRoot(root);
    }
  });

  it("connect replaces the password: the old URL stops working, the new one works", async () => {
    const branches = adapter();
    const { root } = await branches.createRoot({ name: "rotate" });
    const { branch, connection: first } = await branches.createBranch(root, { name: "r" });
    const second = await branches.connect(root, branch.id);
    expect(new URL(second.databaseUrl).username).toBe(new URL(first.databaseUrl).username);
    expect(new URL(second.databaseUrl).password).not.toBe(new URL(first.databaseUrl).password);
    expect(String(await rejectionOf(connectByUrl(first.databaseUrl)))).toMatch(/Access denied/);
    await withSql(second, async (sql) =>
      expect(await sql.rows("SELECT DATABASE() AS db")).toEqual([{ db: branch.id }]),
    );
    await branches.deleteRoot(root);
  });

  it("clones keys, foreign keys (pointing inside the clone), AUTO_INCREMENT, generated columns, charset and views", async () => {
    const branches = adapter();
    const { root, connection } = await branches.createRoot({ name: "shape" });
    await withSql(connection, async (sql) => {
      await sql.run(
        "CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(10) NOT NULL, UNIQUE KEY parent_code (code)) CHARACTER SET latin1 COLLATE latin1_swedish_ci AUTO_INCREMENT=1000",
      );
      await sql.run(
        "CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT, qty INT NOT NULL, doubled INT AS (qty * 2) VIRTUAL, stored_total INT AS (qty + 1) STORED, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE, KEY child_qty (qty))",
      );
      await sql.run("INSERT INTO parent (code) VALUES ('a'), ('b')");
      await sql.run("INSERT INTO child (parent_id, qty) VALUES (1000, 3), (1001, 4)");
      await sql.run(
        "CREATE VIEW child_codes AS SELECT c.id, p.code, c.doubled FROM child c JOIN parent p ON p.id = c.parent_id",
      );
      await sql.run("CREATE VIEW first_code AS SELECT code FROM child_codes ORDER BY id LIMIT 1");
    });
    const { branch, connection: copy } = await branches.createBranch(root, { name: "copy" });
    await withSql(copy, async (sql) => {
      expect(
        await sql.rows("SELECT id, parent_id, qty, doubled, stored_total FROM child ORDER BY id"),
      ).toEqual([
        { id: 1, parent_id: 1000, qty: 3, doubled: 6, stored_total: 4 },
        { id: 2, parent_id: 1001, qty: 4, doubled: 8, stored_total: 5 },
      ]);
      await sql.run("INSERT INTO parent (code) VALUES ('c')");
      expect(await sql.rows("SELECT id FROM parent WHERE code = 'c'")).toEqual([{ id: 1002 }]);
      expect(String(await rejectionOf(sql.run("INSERT INTO parent (code) VALUES ('a')")))).toMatch(
        /Duplicate/,
      );
      const fks = await sql.rows(
        "SELECT CONSTRAINT_NAME AS name, REFERENCED_TABLE_SCHEMA AS target FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL",
      );
      expect(fks).toEqual([{ name: "child_parent", target: branch.id }]);
      expect(
        await sql.rows(
          "SELECT TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'parent'",
        ),
      ).toEqual([{ c: "latin1_swedish_ci" }]);
      // ON DELETE CASCADE came along, and acts inside the clone only.
      await sql.run("DELETE FROM parent WHERE id = 1000");
      expect(await sql.rows("SELECT count(*) AS n FROM child")).toEqual([{ n: 1 }]);
      // The views read the clone's tables, not the parent's.
      expect(await sql.rows("SELECT code, doubled FROM child_codes")).toEqual([{ code: "b", doubled: 8 }]);
      expect(await sql.rows("SELECT code FROM first_code")).toEqual([{ code: "b" }]);
      const [view] = await sql.rows(`SHOW CREATE VIEW child_codes`);
      expect(String(view?.["Create View"])).not.toContain(`${root.id}__main`);
      expect(String(view?.["Create View"])).toContain("SQL SECURITY INVOKER");
    });
    await withSql(connection, async (sql) => {
      expect(await sql.rows("SELECT count(*) AS n FROM child")).toEqual([{ n: 2 }]);
    });
    await branches.deleteRoot(root);
  });

  it("copies all tables as of one moment while the parent is being written", async () => {
    const branches = adapter();
    const { root, connection } = await branches.createRoot({ name: "live" });
    await withSql(connection, async (sql) => {
      for (const table of ["t1", "t2", "t3", "t4", "t5", "t6"]) {
        await sql.run(`CREATE TABLE ${table} (id INT PRIMARY KEY, pad VARCHAR(200))`);
      }
    });
    const writer = await connectByUrl(connection.databaseUrl);
    let stop = false;
    let written = 0;
    // Each transaction adds the same id to every table: a copy taken table by table at different moments shows
    // different counts.
    const writing = (async () => {
      for (let id = 1; !stop; id++) {
        await writer.run("START TRANSACTION");
        for (const table of ["t1", "t2", "t3", "t4", "t5", "t6"]) {
          await writer.run(`INSERT INTO ${table} (id, pad) VALUES (?, REPEAT('x', 200))`, [id]);
        }
        await writer.run("COMMIT");
        written = id;
      }
    })();
    try {
      while (written < 20) await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 0; i < 4; i++) {
        const { connection: copy } = await branches.createBranch(root, { name: `snap${i}` });
        await withSql(copy, async (sql) => {
          const [row] = await sql.rows(
            "SELECT (SELECT count(*) FROM t1) a, (SELECT count(*) FROM t2) b, (SELECT count(*) FROM t3) c, (SELECT count(*) FROM t4) d, (SELECT count(*) FROM t5) e, (SELECT count(*) FROM t6) f",
          );
          expect(new Set(Object.values(row ?? {})).size).toBe(1);
        });
      }
      expect(written).toBeGreaterThan(20);
    } finally {
      stop = true;
      await writing;
      await writer.close();
      await branches.deleteRoot(root);
    }
  });

  it("deleteRoot drops every database and user of the root, and nothing else", async () => {
    const branches = adapter();
    const { root } = await branches.createRoot({ name: "wipe" });
    const neighbour = await branches.createRoot({ name: "wipe-2" });
    const { branch } = await branches.createBranch(root, { name: "x" });
    await branches.deleteRoot(root);
    const server = await admin();
    try {
      const [databases] = await server.query<RowDataPacket[]>(
        "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
        [`${root.id}%`],
      );
      expect(databases.map((row) => String(row.name)).sort()).toEqual(
        [`${neighbour.root.id}___meta`, `${neighbour.root.id}__main`].sort(),
      );
      const [users] = await server.query("SELECT User AS user FROM mysql.user WHERE User IN (?, ?)", [
        branchUserName(branch.id),
        branchUserName(`${root.id}__main`),
      ]);
      expect(users).toEqual([]);
    } finally {
      await server.end();
      await branches.deleteRoot(neighbour.root);
    }
  });

  it("reports refused admin credentials as auth, without the password", async () => {
    const url = new URL(mysqlUrl ?? "");
    url.username = "kiln_nobody";
    url.password = "PlantedSecret-4242";
    const branches = adapter({ adminUrl: url.href });
    const error = await rejectionOf(branches.createRoot({ name: "denied" }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ vendor: "mysql", kind: "auth", retryable: false });
    expect(String(error)).toMatch(/Check the user and password of the MySQL admin URL/);
    expect(
      JSON.stringify({ message: String(error), stack: error instanceof Error ? error.stack : "" }),
    ).not.toContain("PlantedSecret-4242");
  });

  it("reports an unreachable server as unavailable and retryable", async () => {
    const branches = adapter({ adminUrl: "mysql://root:PlantedSecret-4242@127.0.0.1:9/" });
    const error = await rejectionOf(branches.createRoot({ name: "down" }));
    expect(error).toMatchObject({ vendor: "mysql", kind: "unavailable", retryable: true });
    expect(String(error)).toMatch(/ECONNREFUSED/);
    expect(String(error)).not.toContain("PlantedSecret-4242");
  });

  it("refuses names that would overflow MySQL's 64-character identifiers", async () => {
    const branches = adapter({ prefix: "kiln_" });
    expect(await rejectionOf(branches.createRoot({ name: "r".repeat(51) }))).toMatchObject({
      kind: "invalid",
    });
    const { root } = await branches.createRoot({ name: "r".repeat(40) });
    try {
      const error = await rejectionOf(branches.createBranch(root, { name: "b".repeat(20) }));
      expect(error).toMatchObject({ kind: "invalid" });
      expect(String(error)).toMatch(/64-character limit/);
      expect(await rejectionOf(branches.createBranch(root, { name: "b".repeat(15) }))).toMatchObject({
        kind: "invalid",
      });
      expect((await branches.createBranch(root, { name: "b".repeat(14) })).branch.id).toHaveLength(61);
    } finally {
      await branches.deleteRoot(root);
    }
  });

  it("refuses a root id this adapter did not make", async () => {
    const branches = adapter({ prefix: "kiln_" });
    for (const id of ["other_x", "kiln_x`; DROP DATABASE mysql; --", "kiln_"]) {
      const error = await rejectionOf(branches.listBranches({ kind: "mysql", id, name: "x" }));
      expect(error).toMatchObject({ vendor: "mysql", kind: "invalid" });
    }
  });
});
