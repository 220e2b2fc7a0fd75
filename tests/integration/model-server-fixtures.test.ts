import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadScenario, scenarioFiles } from "../fakes/model-server";
import { createThrowawayMysqlDatabase, type ThrowawayMysqlDatabase } from "../helpers/databases";
import {
  type RunResult,
  run,
  runMigrate,
  templateEnv,
  templateWorkspace,
  type Workspace,
  writeWorkspaceFile,
} from "../helpers/template";

// The scripted agents' code must stay valid for the app template: a pipeline test that drives them expects
// `npm run migrate` and `npm run build` to pass, and a template change that breaks the fixtures should fail here,
// with the build's own message, rather than as a mysterious pipeline failure.

const INSTALL_TIMEOUT = 10 * 60_000;
const mysqlUrl = process.env.KILN_TEST_MYSQL_URL;

let workspace: Workspace;
let mysql: ThrowawayMysqlDatabase | undefined;
let sqliteDir: string;

beforeAll(async () => {
  workspace = await templateWorkspace();
  sqliteDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-fixture-db-"));
  if (mysqlUrl) mysql = await createThrowawayMysqlDatabase(mysqlUrl, "kiln_fixture");
}, INSTALL_TIMEOUT);

afterAll(async () => {
  workspace?.dispose();
  if (sqliteDir) fs.rmSync(sqliteDir, { recursive: true, force: true });
  await mysql?.drop();
});

function expectSuccess(result: RunResult): void {
  expect(result.code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
}

function databaseUrls(): string[] {
  return [`file:${path.join(sqliteDir, "app.db")}`, ...(mysql ? [mysql.url] : [])];
}

async function npmRun(script: "build" | "typecheck"): Promise<void> {
  expectSuccess(
    await run("npm", ["run", "-s", script], { cwd: workspace.dir, env: templateEnv(), timeoutMs: 240_000 }),
  );
}

describe("the todo-app scenarios' files in the app template", () => {
  it("Codex and Claude Code write the same files for each prompt", () => {
    expect(scenarioFiles(loadScenario("claude-todo-app"))).toEqual(
      scenarioFiles(loadScenario("codex-todo-app")),
    );
    expect(scenarioFiles(loadScenario("claude-add-username"))).toEqual(
      scenarioFiles(loadScenario("codex-add-username")),
    );
  });

  // The follow-up builds on the first prompt's files and database, as it does in a real task: in order, and the
  // full build only once (it covers what the first prompt's files and the follow-up share).
  it("build a todo app: the migration applies and rolls back, and the app type-checks", async () => {
    for (const [file, content] of scenarioFiles(loadScenario("codex-todo-app"))) {
      writeWorkspaceFile(workspace.dir, file, content);
    }
    for (const url of databaseUrls()) {
      const up = await runMigrate(workspace.dir, url, []);
      expectSuccess(up);
      expect(up.stdout).toContain("20260301000000_create_todos");
      expectSuccess(await runMigrate(workspace.dir, url, ["down"]));
      expectSuccess(await runMigrate(workspace.dir, url, []));
    }
    await npmRun("typecheck");
  }, 300_000);

  it("add a username: the follow-up migration applies on top and rolls back, and the app builds", async () => {
    for (const [file, content] of scenarioFiles(loadScenario("codex-add-username"))) {
      writeWorkspaceFile(workspace.dir, file, content);
    }
    for (const url of databaseUrls()) {
      const up = await runMigrate(workspace.dir, url, []);
      expectSuccess(up);
      expect(up.stdout).toContain("20260302000000_add_todos_username");
      expectSuccess(await runMigrate(workspace.dir, url, ["down"]));
      expectSuccess(await runMigrate(workspace.dir, url, []));
    }
    await npmRun("build");
  }, 300_000);
});
