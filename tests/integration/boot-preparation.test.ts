import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createOperator } from "@/server/auth/operators";
import { parseEnv } from "@/server/config/env-schema";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";
import { createProject } from "@/server/operations/create-project";
import { provisionRevision } from "@/server/pipeline/steps/provision";
import { startBootPreparation } from "@/server/platform/boot-preparation";
import { cachePaths } from "@/server/platform/cache-paths";
import { readPreparationStatus } from "@/server/preparation/preparation-status";
import type { PreparationStatus } from "@/server/preparation/preparation-types";
import { preparationOrder } from "@/server/preparation/prepare-caches";
import { templateVersion } from "@/server/templates/template-version";
import { ensureToolchain, findToolchain } from "@/server/toolchains/install";
import { toolchainSpec } from "@/server/toolchains/toolchain-spec";
import { testDatabases } from "../helpers/databases";
import { localProviderChoices, localProvidersAt } from "../helpers/local-providers";
import { waitUntil } from "../helpers/wait-until";

// A fresh install's boot: Kiln starts preparing the template's dependencies and the agents' CLIs in its empty data
// dir, and a project's build provisioned while that runs waits for those very installs instead of starting its own.
// Real npm, real packages (the registry is the one thing not on this machine): about a minute on this box.

const sandboxes: SandboxHandle[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.allSettled(sandboxes.map((sandbox) => sandbox.stop()));
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function stateOf(status: PreparationStatus, thing: string): string | undefined {
  return status.items.find((item) => item.thing === thing)?.state;
}

describe("boot preparation", { timeout: 600_000 }, () => {
  it("fills an empty data dir's caches in the background, and a build started meanwhile joins its installs", async () => {
    const libsql = testDatabases[0];
    if (!libsql) throw new Error("no test database");
    const t = await libsql.open();
    try {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-boot-prep-"));
      dirs.push(dataDir);
      const env = parseEnv({ KILN_DATA_DIR: dataDir });
      const paths = cachePaths(env.dataDir);
      expect(fs.existsSync(paths.templateCacheRoot)).toBe(false);
      expect(fs.existsSync(paths.toolchainsRoot)).toBe(false);

      const started = Date.now();
      const preparing = startBootPreparation(env);
      // Started, not awaited: a server's boot goes on at once.
      expect(preparing).toBeInstanceOf(Promise);
      expect(Date.now() - started).toBeLessThan(1_000);

      // The dashboard's view while it runs: the template and the default agent under way, the other agent next.
      await waitUntil(
        async () => {
          const status = await readPreparationStatus(paths, preparationOrder);
          return stateOf(status, "template") === "preparing" && stateOf(status, "codex") === "preparing";
        },
        "the template's and Codex's installs under way",
        60_000,
      );
      expect(stateOf(await readPreparationStatus(paths, preparationOrder), "claude-code")).toBe("waiting");
      // Their locks taken (each install's first step), so what follows is a build arriving mid-install.
      const version = await templateVersion(paths.templateDir);
      await waitUntil(
        () =>
          fs.existsSync(path.join(paths.templateCacheRoot, `.lock-nextjs-app-${version}`)) &&
          fs.existsSync(path.join(paths.toolchainsRoot, `.lock-codex-${toolchainSpec("codex").version}`)),
        "the installs' locks",
        60_000,
      );

      // The operator creates a project now; its build provisions while the installs run.
      const userId = (
        await createOperator(
          t.db,
          { email: "ops@example.com", password: "correct horse battery" },
          { bcryptCost: 4 },
        )
      ).id;
      const created = await createProject(
        t.db,
        userId,
        { prompt: "A plant watering log" },
        localProviderChoices,
      );
      const [project, task, revision] = await Promise.all([
        t.db.selectFrom("project").selectAll().where("id", "=", created.project.id).executeTakeFirstOrThrow(),
        t.db.selectFrom("task").selectAll().where("id", "=", created.task.id).executeTakeFirstOrThrow(),
        t.db
          .selectFrom("revision")
          .selectAll()
          .where("id", "=", created.revision.id)
          .executeTakeFirstOrThrow(),
      ]);
      const progress: string[] = [];
      const done = await provisionRevision(
        {
          db: t.db,
          key: randomBytes(32),
          providers: localProvidersAt(dataDir),
          templateDir: paths.templateDir,
          templateCacheRoot: paths.templateCacheRoot,
          toolchainsRoot: paths.toolchainsRoot,
          sandboxTimeoutMs: 300_000,
          onProgress: (message) => progress.push(message),
        },
        { project, task, revision, parent: undefined },
      );
      sandboxes.push(done.sandbox);

      // The build waited for the boot preparation's installs and started none of its own.
      expect(progress).toContain("Waiting for the nextjs-app template's install already under way…");
      expect(progress).toContain(
        `Waiting for the install of Codex ${toolchainSpec("codex").version} already under way…`,
      );
      expect(progress.filter((message) => /^Installing/.test(message))).toEqual([]);
      expect(done.toolchain.dir).toBe(
        path.join(fs.realpathSync(paths.toolchainsRoot), `codex-${toolchainSpec("codex").version}`),
      );
      expect((await done.sandbox.run({ cmd: "test", args: ["-d", "node_modules/next"] })).exitCode).toBe(0);

      const outcome = await preparing;
      expect(outcome?.failed).toEqual([]);
      expect([...(outcome?.prepared ?? [])].sort()).toEqual(["claude-code", "codex", "template"]);

      // On disk: one install of each, nothing half-done left behind.
      expect(fs.readdirSync(paths.templateCacheRoot).sort()).toEqual([
        `nextjs-app-${version}`,
        `nextjs-app-${version}.ready`,
      ]);
      expect(fs.readdirSync(paths.toolchainsRoot).sort()).toEqual(
        preparationOrder.map((agent) => `${agent}-${toolchainSpec(agent).version}`).sort(),
      );

      // And the dashboard has nothing more to say.
      const after = await readPreparationStatus(paths, preparationOrder);
      expect(after.items.map((item) => item.state)).toEqual(["ready", "ready", "ready"]);
    } finally {
      await t.drop();
    }
  });

  it("lets a build that waited for a failed install try once itself", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-boot-prep-retry-"));
    dirs.push(root);
    const version = toolchainSpec("codex").version;
    // Stand-ins for npm (the registry is off this machine): one that fails after a moment, one that lays out the CLI.
    const failing = path.join(root, "npm-failing");
    const failingStarted = path.join(root, "npm-failing-started");
    fs.writeFileSync(
      failing,
      `#!/usr/bin/env node\nrequire("node:fs").writeFileSync(${JSON.stringify(failingStarted)}, "");\nsetTimeout(() => { process.stderr.write("npm error ECONNRESET"); process.exit(1); }, 500);\n`,
      { mode: 0o755 },
    );
    const working = path.join(root, "npm-working");
    fs.writeFileSync(
      working,
      `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const pkg = path.join("node_modules", "@openai", "codex", "bin");
fs.mkdirSync(pkg, { recursive: true });
fs.mkdirSync(path.join("node_modules", ".bin"), { recursive: true });
fs.writeFileSync(path.join(pkg, "codex"), "#!/bin/sh\\necho 'codex-cli ${version}'\\n", { mode: 0o755 });
fs.symlinkSync(path.join("..", "@openai", "codex", "bin", "codex"), path.join("node_modules", ".bin", "codex"));
`,
      { mode: 0o755 },
    );
    const cacheRoot = path.join(root, "toolchains");
    const hostEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root };
    const preparing = ensureToolchain({ cacheRoot, agent: "codex", npmPath: failing, hostEnv });
    // The build starts once the preparation's install is under way (on a busy box it could otherwise win the lock).
    for (let waited = 0; !fs.existsSync(failingStarted); waited += 20) {
      if (waited > 30_000) throw new Error("the preparation's install never started");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const buildProgress: string[] = [];
    const build = ensureToolchain({
      cacheRoot,
      agent: "codex",
      npmPath: working,
      hostEnv,
      onProgress: (message) => buildProgress.push(message),
    });
    await expect(preparing).rejects.toThrow(/npm install @openai\/codex@.* exited with 1/);
    const toolchain = await build;
    expect(buildProgress[0]).toBe(`Waiting for the install of Codex ${version} already under way…`);
    expect(buildProgress).toContain(`That install failed; installing Codex ${version} again…`);
    expect(toolchain.installed).toBe(true);
    expect(await findToolchain(cacheRoot, "codex")).toMatchObject({ version });
  });
});
