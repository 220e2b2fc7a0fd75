import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createThrowawayMysqlDatabase } from "../../helpers/databases";
import {
  freePort,
  installedTemplate,
  type RunResult,
  run,
  runMigrate,
  templateEnv,
  templateWorkspace,
  type Workspace,
} from "../../helpers/template";

// `npm run migrate` in an installed copy of the template, exactly as the platform runs it, checked against the
// database itself through the same DATABASE_URL.

const INSTALL_TIMEOUT = 10 * 60_000;
const EXAMPLE = "20260101000000_create_app_meta";
const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;

/** Fails with the command's output, so a broken script explains itself. */
function expectSuccess(result: RunResult): void {
  expect(result.code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
}

/** A failure is one readable line on stderr, nothing on stdout, and a non-zero exit code. */
function failureLine(result: RunResult): string {
  expect(result.code, `stdout: ${result.stdout}`).not.toBe(0);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stdout.trim()).toBe("");
  return lines[0] ?? "";
}

type Target = {
  url: string;
  tables(): Promise<string[]>;
  drop(): Promise<void>;
};

async function libsqlTarget(): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-template-db-"));
  const url = `file:${path.join(dir, "app.db")}`;
  return {
    url,
    async tables() {
      const client = createClient({ url });
      try {
        const result = await client.execute("select name from sqlite_master where type = 'table'");
        return result.rows.map((row) => String(row.name)).sort();
      } finally {
        client.close();
      }
    },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function mysqlTarget(serverUrl: string): Promise<Target> {
  const { name, url, admin, drop } = await createThrowawayMysqlDatabase(serverUrl, "tmpl");
  return {
    url,
    async tables() {
      const [rows] = await admin.query(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?",
        [name],
      );
      if (!Array.isArray(rows)) throw new Error("unexpected information_schema answer");
      return rows.map((row) => String((row as Record<string, unknown>).name)).sort();
    },
    drop,
  };
}

const targets: Array<{ name: string; open(): Promise<Target> }> = [
  { name: "libsql", open: libsqlTarget },
  ...(mysqlUrl ? [{ name: "mysql", open: () => mysqlTarget(mysqlUrl) }] : []),
];

let app: string;

beforeAll(async () => {
  app = await installedTemplate();
}, INSTALL_TIMEOUT);

describe.each(targets)("template migrations on $name", (factory) => {
  let target: Target;

  beforeAll(async () => {
    target = await factory.open();
  });

  afterAll(async () => {
    await target?.drop();
  });

  it("go up, down and up again, and status tells which are applied", async () => {
    const up = await runMigrate(app, target.url, []);
    expectSuccess(up);
    expect(up.stdout.trim()).toBe(`Applied: ${EXAMPLE}`);
    expect(await target.tables()).toContain("app_meta");

    const applied = await runMigrate(app, target.url, ["status"]);
    expectSuccess(applied);
    expect(applied.stdout).toMatch(new RegExp(`✔ ${EXAMPLE}\\s+applied \\d{4}-\\d\\d-\\d\\dT`));

    const down = await runMigrate(app, target.url, ["down"]);
    expectSuccess(down);
    expect(down.stdout.trim()).toBe(`Rolled back: ${EXAMPLE}`);
    expect(await target.tables()).not.toContain("app_meta");

    const pending = await runMigrate(app, target.url, ["status"]);
    expectSuccess(pending);
    expect(pending.stdout).toMatch(new RegExp(`· ${EXAMPLE}\\s+pending`));

    const again = await runMigrate(app, target.url, ["up"]);
    expectSuccess(again);
    expect(again.stdout.trim()).toBe(`Applied: ${EXAMPLE}`);
    expect(await target.tables()).toContain("app_meta");

    const noop = await runMigrate(app, target.url, ["up"]);
    expectSuccess(noop);
    expect(noop.stdout.trim()).toBe("Already up to date.");
  });
});

describe("template migrate failures", () => {
  const planted = "Planted-Pa55word-9f2c";

  it("a database that refuses connections: one line, exit 1, no password", async () => {
    const port = await freePort();
    const result = await runMigrate(app, `mysql://app:${planted}@127.0.0.1:${port}/app`, ["up"]);
    const line = failureLine(result);
    expect(line).toMatch(/^migrate up failed: .*ECONNREFUSED/);
    expect(line).toContain(`127.0.0.1:${port}`);
    expect(line).not.toContain(planted);
  });

  it.skipIf(!mysqlUrl)(
    "a wrong password on a real server: one line, exit 1, the password nowhere",
    async () => {
      const url = new URL(mysqlUrl ?? "mysql://root@127.0.0.1:3306/test");
      url.password = planted;
      const result = await runMigrate(app, url.toString(), ["status"]);
      const line = failureLine(result);
      expect(line).toMatch(/^migrate status failed: Access denied/);
      expect(line).not.toContain(planted);
    },
  );

  it("DATABASE_URL missing or unsupported: says so, exit 1", async () => {
    expect(failureLine(await runMigrate(app, undefined, ["up"]))).toMatch(
      /^migrate up failed: DATABASE_URL is not set/,
    );
    const unsupported = failureLine(await runMigrate(app, `postgres://app:${planted}@db/app`, ["up"]));
    expect(unsupported).toMatch(/unsupported scheme postgres:/);
    expect(unsupported).not.toContain(planted);
  });

  it("an unknown command prints the usage, exit 1", async () => {
    expect(failureLine(await runMigrate(app, "file:unused.db", ["sideways"]))).toMatch(
      /usage: npm run migrate/,
    );
  });
});

describe("template migrate with a broken migration", () => {
  let workspace: Workspace;
  let target: Target;

  beforeAll(async () => {
    workspace = await templateWorkspace();
    target = await libsqlTarget();
  }, INSTALL_TIMEOUT);

  afterAll(async () => {
    await target?.drop();
    workspace?.dispose();
  });

  const addMigration = (file: string, source: string) => {
    fs.writeFileSync(path.join(workspace.dir, "migrations", file), source);
    return () => fs.rmSync(path.join(workspace.dir, "migrations", file));
  };

  it("names the migration whose SQL fails", async () => {
    const remove = addMigration(
      "20991231000000_broken.ts",
      [
        'import { type Kysely, sql } from "kysely";',
        "export async function up(db: Kysely<unknown>) { await sql`create tabel nope (id integer)`.execute(db); }",
        "export async function down() {}",
      ].join("\n"),
    );
    try {
      const line = failureLine(await runMigrate(workspace.dir, target.url, ["up"]));
      expect(line).toMatch(/^migrate up failed: migration 20991231000000_broken failed: .*syntax error/);
    } finally {
      remove();
    }
  });

  it("refuses a file that is not named like a migration, or lacks down()", async () => {
    const removeMisnamed = addMigration(
      "create_things.ts",
      "export async function up() {}\nexport async function down() {}\n",
    );
    try {
      expect(failureLine(await runMigrate(workspace.dir, target.url, ["up"]))).toMatch(
        /migrations\/create_things\.ts: name it like 20260101000000_create_todos\.ts/,
      );
    } finally {
      removeMisnamed();
    }
    const removeHalf = addMigration("20991231000001_half.ts", "export async function up() {}\n");
    try {
      expect(failureLine(await runMigrate(workspace.dir, target.url, ["status"]))).toMatch(
        /migrations\/20991231000001_half\.ts: export both async functions up\(db\) and down\(db\)/,
      );
    } finally {
      removeHalf();
    }
  });

  it("the libSQL driver lets a write wait for an open transaction without freezing the event loop", async () => {
    // Without the template's connection mutex the second write blocks inside the synchronous driver until
    // SQLITE_BUSY (5 s), the event loop stops, and the transaction holding the lock can never commit.
    const script = `
      import { createDatabase } from "./src/db/create-database";
      import { loadMigrations, migrateUp } from "./src/db/migrator";
      async function main() {
        const { db } = createDatabase<any>(process.env.DATABASE_URL);
        await migrateUp(db, await loadMigrations("migrations"));
        const now = new Date().toISOString();
        // Timed in here, so the child's start-up on a loaded machine does not count.
        const started = performance.now();
        let last = started;
        let longestStall = 0;
        const timer = setInterval(() => {
          longestStall = Math.max(longestStall, performance.now() - last);
          last = performance.now();
        }, 10);
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        await Promise.all([
          db.transaction().execute(async (trx) => {
            await trx.insertInto("app_meta").values({ name: "a", value: "1", updated_at: now }).execute();
            await sleep(300);
            await trx.insertInto("app_meta").values({ name: "b", value: "2", updated_at: now }).execute();
          }),
          sleep(30).then(() => db.insertInto("app_meta").values({ name: "c", value: "3", updated_at: now }).execute()),
        ]);
        clearInterval(timer);
        const elapsedMs = performance.now() - started;
        const rows = await db.selectFrom("app_meta").select("name").orderBy("name").execute();
        console.log(JSON.stringify({ names: rows.map((row) => row.name), longestStall, elapsedMs }));
        await db.destroy();
      }
      main();
    `;
    fs.writeFileSync(path.join(workspace.dir, "concurrency-check.ts"), script);
    const database = await libsqlTarget();
    try {
      const result = await run(path.join(workspace.dir, "node_modules/.bin/tsx"), ["concurrency-check.ts"], {
        cwd: workspace.dir,
        env: templateEnv({ DATABASE_URL: database.url }),
        timeoutMs: 30_000,
      });
      expectSuccess(result);
      const outcome = JSON.parse(result.stdout);
      expect(outcome.names).toEqual(["a", "b", "c"]);
      // A frozen event loop stalls for the driver's 5 s busy timeout; the bounds leave a loaded machine room.
      expect(outcome.longestStall).toBeLessThan(2_000);
      expect(outcome.elapsedMs).toBeLessThan(4_000);
    } finally {
      await database.drop();
    }
  });

  it("`new` creates a timestamped migration that then applies and rolls back", async () => {
    const before = new Set(fs.readdirSync(path.join(workspace.dir, "migrations")));
    const created = await runMigrate(workspace.dir, undefined, ["new", "Create Things"]);
    expectSuccess(created);
    const added = fs.readdirSync(path.join(workspace.dir, "migrations")).filter((file) => !before.has(file));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^\d{14}_create_things\.ts$/);
    const name = (added[0] ?? "").replace(/\.ts$/, "");

    const up = await runMigrate(workspace.dir, target.url, ["up"]);
    expectSuccess(up);
    expect(up.stdout).toContain(name);
    const down = await runMigrate(workspace.dir, target.url, ["down"]);
    expectSuccess(down);
    expect(down.stdout.trim()).toBe(`Rolled back: ${name}`);
  });
});
