import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalSandboxes } from "../../../src/server/integrations/sandboxes/local";
import { ToolchainError } from "../../../src/server/toolchains/errors";
import { ensureToolchain, findToolchain, toolchainDir } from "../../../src/server/toolchains/install";
import { pruneToolchains } from "../../../src/server/toolchains/prune";
import { rejectionOf } from "../../helpers/errors";
import { waitUntil } from "../../helpers/wait-until";

// The install machinery (layout, marker, atomic rename, lock, scrubbed env, failures, prune) against a fake npm
// that builds the same tree shape the real packages have, in milliseconds. The real packages are installed and
// run in toolchains.test.ts.

const roots: string[] = [];
const children: ChildProcess[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

type FakeNpmBehaviour = {
  /** Non-zero: fail with `stderr` after creating nothing. */
  exitCode?: number;
  stderr?: string;
  sleepMs?: number;
  /** What the installed CLI prints for --version (default: the version asked for). */
  printVersion?: string;
};

type FakeNpm = { path: string; runs(): number; lastEnv(): Record<string, string> };

/**
 * A stand-in for npm: records each run and its environment, then lays out node_modules like the real packages do
 * (Claude Code's bin is a stub until its install.cjs puts the real one in place), with group-writable files.
 */
function fakeNpm(behaviour: FakeNpmBehaviour = {}): FakeNpm {
  const dir = tempDir("kiln-fake-npm-");
  const runsFile = path.join(dir, "runs");
  const envFile = path.join(dir, "env.json");
  const config = JSON.stringify({ ...behaviour, runsFile, envFile });
  const script = `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const cfg = ${config};
fs.appendFileSync(cfg.runsFile, process.pid + "\\n");
fs.writeFileSync(cfg.envFile, JSON.stringify(process.env));
const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
const [name, version] = Object.entries(manifest.dependencies)[0];
const printed = cfg.printVersion || version;
function layout() {
  if (cfg.exitCode) {
    process.stderr.write(cfg.stderr || "npm error failed");
    process.exit(cfg.exitCode);
  }
  const bin = name === "@openai/codex" ? "codex" : "claude";
  const pkg = path.join("node_modules", name);
  fs.mkdirSync(path.join(pkg, "bin"), { recursive: true });
  fs.mkdirSync(path.join("node_modules", ".bin"), { recursive: true });
  const real = "#!/bin/sh\\necho '" + bin + " " + printed + "'\\n";
  const target = path.join(pkg, "bin", bin);
  if (name === "@anthropic-ai/claude-code") {
    fs.writeFileSync(target, "#!/bin/sh\\necho 'claude native binary not installed' >&2\\nexit 1\\n", { mode: 0o775 });
    fs.writeFileSync(path.join(pkg, "install.cjs"),
      "require('fs').writeFileSync(require('path').join(__dirname, 'bin', 'claude'), " + JSON.stringify(real) + ");");
  } else {
    fs.writeFileSync(target, real, { mode: 0o775 });
  }
  fs.chmodSync(target, 0o775);
  fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name, version }), { mode: 0o666 });
  fs.chmodSync(path.join(pkg, "package.json"), 0o666);
  fs.symlinkSync(path.join("..", name, "bin", bin), path.join("node_modules", ".bin", bin));
}
setTimeout(layout, cfg.sleepMs || 0);
`;
  const file = path.join(dir, "npm");
  fs.writeFileSync(file, script, { mode: 0o755 });
  return {
    path: file,
    runs: () =>
      fs.existsSync(runsFile) ? fs.readFileSync(runsFile, "utf8").split("\n").filter(Boolean).length : 0,
    lastEnv: () => JSON.parse(fs.readFileSync(envFile, "utf8")) as Record<string, string>,
  };
}

const hostEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };

function cacheEntries(cacheRoot: string): string[] {
  return fs.existsSync(cacheRoot) ? fs.readdirSync(cacheRoot).sort() : [];
}

/** Runs ensureToolchain for codex in a separate Node process (another platform process or test worker). */
function installInChild(
  cacheRoot: string,
  npmPath: string,
): { child: ChildProcess; result: Promise<string> } {
  const dir = tempDir("kiln-toolchain-child-");
  const script = path.join(dir, "child.mts");
  const module = path.resolve("src/server/toolchains/install.ts");
  fs.writeFileSync(
    script,
    `import { ensureToolchain } from ${JSON.stringify(module)};
const t = await ensureToolchain({ cacheRoot: process.argv[2], agent: "codex", npmPath: process.argv[3],
  hostEnv: { PATH: process.env.PATH, HOME: process.env.HOME } });
console.log(JSON.stringify(t));
`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script, cacheRoot, npmPath], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<string>((resolve, reject) => {
    child.once("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`child exited ${code}: ${stderr}`)),
    );
  });
  return { child, result };
}

describe("ensureToolchain", () => {
  it("installs once into <agent>-<version>, with a marker, and reuses it after that", async () => {
    const cacheRoot = path.join(tempDir("kiln-toolchains-"), "cache");
    const npm = fakeNpm();
    const progress: string[] = [];
    const first = await ensureToolchain({
      cacheRoot,
      agent: "codex",
      npmPath: npm.path,
      hostEnv,
      onProgress: (message) => progress.push(message),
    });
    expect(first).toMatchObject({
      agent: "codex",
      package: "@openai/codex",
      version: "0.169.0",
      dir: path.join(cacheRoot, "codex-0.169.0"),
      binPath: path.join(cacheRoot, "codex-0.169.0", "node_modules", ".bin", "codex"),
      installed: true,
    });
    expect(progress).toEqual([
      "Installing Codex 0.169.0 (first use, one time)…",
      expect.stringMatching(/^Codex 0\.169\.0 ready \(\d+ s\)$/),
    ]);
    expect(execFileSync(first.binPath, ["--version"], { encoding: "utf8" })).toBe("codex 0.169.0\n");
    // Only the finished version and its lock's absence: no temp dir, no lock left behind.
    expect(cacheEntries(cacheRoot)).toEqual(["codex-0.169.0"]);
    expect(fs.existsSync(path.join(first.dir, ".kiln-toolchain.json"))).toBe(true);
    expect(execFileSync("find", [first.dir, "-perm", "/022", "!", "-type", "l"], { encoding: "utf8" })).toBe(
      "",
    );

    const again = await ensureToolchain({ cacheRoot, agent: "codex", npmPath: npm.path, hostEnv });
    expect(again).toMatchObject({ dir: first.dir, binPath: first.binPath, installed: false });
    expect(npm.runs()).toBe(1);
  });

  it("runs Claude Code's own install script after npm (its bin is a stub until then)", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const toolchain = await ensureToolchain({
      cacheRoot,
      agent: "claude-code",
      npmPath: fakeNpm().path,
      hostEnv,
    });
    expect(toolchain.dir).toBe(path.join(cacheRoot, "claude-code-2.1.329"));
    expect(execFileSync(toolchain.binPath, ["--version"], { encoding: "utf8" })).toBe("claude 2.1.329\n");
  });

  it("installs a changed pinned version side by side, leaving the other version alone", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const old = path.join(cacheRoot, "codex-0.100.0");
    fs.mkdirSync(old);
    fs.writeFileSync(path.join(old, "kept"), "x");
    await ensureToolchain({ cacheRoot, agent: "codex", npmPath: fakeNpm().path, hostEnv });
    expect(cacheEntries(cacheRoot)).toEqual(["codex-0.100.0", "codex-0.169.0"]);
    expect(fs.readFileSync(path.join(old, "kept"), "utf8")).toBe("x");
  });

  it("gives npm only what it needs to reach the registry, never the platform's secrets", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const npm = fakeNpm();
    await ensureToolchain({
      cacheRoot,
      agent: "codex",
      npmPath: npm.path,
      hostEnv: {
        ...hostEnv,
        HTTPS_PROXY: "http://proxy.internal:3128",
        NODE_EXTRA_CA_CERTS: "/etc/ssl/corp.pem",
        npm_config_registry: "https://registry.internal/",
        // What `npm run` injects: the install must not pick up the platform's own project.
        npm_config_local_prefix: process.cwd(),
        npm_config_prefix: "/usr",
        OPENAI_API_KEY: "sk-platform-canary-1111",
        ANTHROPIC_API_KEY: "sk-ant-canary-2222",
        KILN_SECRET_KEY: "kiln-secret-canary-3333",
        DATABASE_URL: "mysql://root:db-password-canary@127.0.0.1/kiln",
        GITHUB_TOKEN: "ghp_canary4444",
      },
    });
    const env = npm.lastEnv();
    expect(env).toMatchObject({
      HTTPS_PROXY: "http://proxy.internal:3128",
      NODE_EXTRA_CA_CERTS: "/etc/ssl/corp.pem",
      npm_config_registry: "https://registry.internal/",
      HOME: hostEnv.HOME,
    });
    expect(env.PATH?.startsWith(`${path.dirname(process.execPath)}:`)).toBe(true);
    expect(env.npm_config_local_prefix).toBeUndefined();
    expect(env.npm_config_prefix).toBeUndefined();
    const dump = JSON.stringify(env);
    for (const canary of [
      "sk-platform-canary",
      "sk-ant-canary",
      "kiln-secret-canary",
      "db-password-canary",
      "ghp_",
    ]) {
      expect(dump).not.toContain(canary);
    }
  });

  it("reports a failed npm install with npm's last lines and what to do, secrets scrubbed, nothing cached", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const secret = "npm-auth-canary-8d8d8d";
    const npm = fakeNpm({
      exitCode: 1,
      stderr: `npm error code E404\nnpm error 404 Not Found - GET https://registry.internal/@openai%2fcodex\nnpm error auth ${secret}\n`,
    });
    const error = await rejectionOf(
      ensureToolchain({
        cacheRoot,
        agent: "codex",
        npmPath: npm.path,
        hostEnv: { ...hostEnv, npm_config__authToken: secret },
      }),
    );
    expect(error).toBeInstanceOf(ToolchainError);
    const message = error instanceof Error ? error.message : "";
    expect(message).toContain(
      "Installing Codex 0.169.0 failed: npm install @openai/codex@0.169.0 exited with 1",
    );
    expect(message).toContain("npm error 404 Not Found");
    expect(message).toContain("Check that the npm registry is reachable from this server");
    expect(message).not.toContain(secret);
    expect(await findToolchain(cacheRoot, "codex")).toBeUndefined();
    expect(cacheEntries(cacheRoot)).toEqual([]);
  });

  it("refuses a CLI that does not report the pinned version, and caches nothing", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const error = await rejectionOf(
      ensureToolchain({
        cacheRoot,
        agent: "codex",
        npmPath: fakeNpm({ printVersion: "0.1.0" }).path,
        hostEnv,
      }),
    );
    expect(error).toBeInstanceOf(ToolchainError);
    expect(error instanceof Error ? error.message : "").toMatch(
      /`codex --version` printed "codex 0\.1\.0", not 0\.169\.0/,
    );
    expect(cacheEntries(cacheRoot)).toEqual([]);
  });

  it("bounds npm in time and says so", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const started = Date.now();
    const error = await rejectionOf(
      ensureToolchain({
        cacheRoot,
        agent: "codex",
        npmPath: fakeNpm({ sleepMs: 10_000 }).path,
        hostEnv,
        installTimeoutMs: 500,
      }),
    );
    // Gave up well before npm would have finished on its own (10 s), with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(error instanceof Error ? error.message : "").toMatch(
      /did not finish in time.*npm registry is reachable/,
    );
    expect(cacheEntries(cacheRoot)).toEqual([]);
  });

  it("says how to fix a missing npm", async () => {
    const error = await rejectionOf(
      ensureToolchain({
        cacheRoot: tempDir("kiln-toolchains-"),
        agent: "codex",
        npmPath: "/nonexistent/npm",
        hostEnv,
      }),
    );
    expect(error instanceof Error ? error.message : "").toMatch(/could not start.*Install Node\.js with npm/);
  });

  it("ignores a version directory without a completion marker and replaces it", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const half = path.join(cacheRoot, "codex-0.169.0", "node_modules", ".bin");
    fs.mkdirSync(half, { recursive: true });
    fs.writeFileSync(path.join(half, "codex"), "#!/bin/sh\necho half\n", { mode: 0o755 });
    expect(await findToolchain(cacheRoot, "codex")).toBeUndefined();
    const npm = fakeNpm();
    const toolchain = await ensureToolchain({ cacheRoot, agent: "codex", npmPath: npm.path, hostEnv });
    expect(npm.runs()).toBe(1);
    expect(execFileSync(toolchain.binPath, ["--version"], { encoding: "utf8" })).toBe("codex 0.169.0\n");
    expect(cacheEntries(cacheRoot)).toEqual(["codex-0.169.0"]);
  });

  it("shares one install between concurrent calls in one process", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const npm = fakeNpm({ sleepMs: 300 });
    const results = await Promise.all(
      [1, 2, 3].map(() => ensureToolchain({ cacheRoot, agent: "codex", npmPath: npm.path, hostEnv })),
    );
    expect(new Set(results.map((result) => result.dir)).size).toBe(1);
    expect(npm.runs()).toBe(1);
  });

  it("lets two platform processes install the same version once between them", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const npm = fakeNpm({ sleepMs: 1_500 });
    const [a, b] = [installInChild(cacheRoot, npm.path), installInChild(cacheRoot, npm.path)];
    const outputs = await Promise.all([a.result, b.result]);
    const parsed = outputs.map((output) => JSON.parse(output) as { dir: string; installed: boolean });
    expect(parsed.map((result) => result.dir)).toEqual([
      path.join(cacheRoot, "codex-0.169.0"),
      path.join(cacheRoot, "codex-0.169.0"),
    ]);
    expect(parsed.map((result) => result.installed).sort()).toEqual([false, true]);
    expect(npm.runs()).toBe(1);
  }, 30_000);

  it("after a platform process dies mid-install: nothing looks complete, and the next one takes over", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const slow = fakeNpm({ sleepMs: 60_000 });
    const crashing = installInChild(cacheRoot, slow.path);
    crashing.result.catch(() => undefined);
    for (let i = 0; i < 100 && slow.runs() === 0; i++) await sleep(100);
    expect(slow.runs()).toBe(1);
    // Gone for good (reaped, so its pid no longer answers), not only signalled.
    const exited = once(crashing.child, "exit");
    crashing.child.kill("SIGKILL");
    await exited;
    // The orphaned npm too, as a host reboot would.
    const npmPid = Number(fs.readFileSync(path.join(path.dirname(slow.path), "runs"), "utf8").trim());
    process.kill(npmPid, "SIGKILL");

    expect(await findToolchain(cacheRoot, "codex")).toBeUndefined();
    expect(cacheEntries(cacheRoot)).toEqual([
      expect.stringMatching(/^\.lock-codex-0\.169\.0$/),
      expect.stringMatching(/^\.tmp-codex-0\.169\.0-[0-9a-f]{8}$/),
    ]);

    const npm = fakeNpm();
    const started = Date.now();
    const toolchain = await ensureToolchain({ cacheRoot, agent: "codex", npmPath: npm.path, hostEnv });
    // The dead owner's lock is taken over at once (its pid is gone), not after the stale timeout (minutes); the
    // margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(toolchain.installed).toBe(true);
    expect(await pruneToolchains(cacheRoot)).toEqual({
      removed: [expect.stringMatching(/^\.tmp-codex-/)],
      inUse: [],
    });
    expect(cacheEntries(cacheRoot)).toEqual(["codex-0.169.0"]);
  }, 30_000);

  it("waits for a live holder of the lock, and says so", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    const lockDir = path.join(cacheRoot, ".lock-codex-0.169.0");
    fs.mkdirSync(lockDir);
    fs.writeFileSync(path.join(lockDir, "owner"), `${os.hostname()}:${process.pid}`);
    const progress: string[] = [];
    const npm = fakeNpm();
    const pending = ensureToolchain({
      cacheRoot,
      agent: "codex",
      npmPath: npm.path,
      hostEnv,
      onProgress: (message) => progress.push(message),
    });
    await waitUntil(() => progress.length > 0, "the install to find the lock held");
    // It keeps waiting (the lock is polled every 500 ms) rather than taking a live holder's lock.
    await sleep(1_200);
    expect(npm.runs()).toBe(0);
    fs.rmSync(lockDir, { recursive: true });
    expect((await pending).installed).toBe(true);
    expect(progress[0]).toBe("Waiting for another Kiln process to finish installing Codex 0.169.0…");
  });
});

describe("pruneToolchains", () => {
  it("removes other versions and crash leftovers, keeps the pinned ones and those in use", async () => {
    const cacheRoot = tempDir("kiln-toolchains-");
    for (const name of [
      "codex-0.100.0",
      "codex-0.150.0",
      "codex-0.140.0",
      "claude-code-1.0.0",
      ".tmp-claude-code-1.0.0-0badf00d",
      "unrelated",
    ]) {
      fs.mkdirSync(path.join(cacheRoot, name, "node_modules"), { recursive: true });
    }
    const pinned = await ensureToolchain({ cacheRoot, agent: "codex", npmPath: fakeNpm().path, hostEnv });
    // An install of 0.140.0 in progress elsewhere.
    fs.mkdirSync(path.join(cacheRoot, ".lock-codex-0.140.0"));
    fs.writeFileSync(path.join(cacheRoot, ".lock-codex-0.140.0", "owner"), `${os.hostname()}:${process.pid}`);
    // A running local sandbox with 0.150.0 bound into it.
    const sandboxes = createLocalSandboxes({ root: tempDir("kiln-prune-sandboxes-") });
    const sandbox = await sandboxes.create({
      name: "prune-in-use",
      source: { kind: "empty" },
      ports: [],
      env: {},
      timeoutMs: 60_000,
      readOnlyPaths: [path.join(cacheRoot, "codex-0.150.0")],
    });
    try {
      // Once it has printed, the command runs inside the sandbox, with the toolchain mounted.
      const command = await sandbox.runDetached({ cmd: "sh", args: ["-c", "echo started; exec sleep 30"] });
      for await (const chunk of command.logs()) if (chunk.data.includes("started")) break;
      const result = await pruneToolchains(cacheRoot);
      expect(result.removed.sort()).toEqual([
        ".tmp-claude-code-1.0.0-0badf00d",
        "claude-code-1.0.0",
        "codex-0.100.0",
      ]);
      expect(result.inUse.sort()).toEqual(["codex-0.140.0", "codex-0.150.0"]);
    } finally {
      await sandbox.stop();
    }
    expect(cacheEntries(cacheRoot)).toEqual([
      ".lock-codex-0.140.0",
      "codex-0.140.0",
      "codex-0.150.0",
      "codex-0.169.0",
      "unrelated",
    ]);
    expect(await findToolchain(cacheRoot, "codex")).toMatchObject({ dir: pinned.dir });
    expect(toolchainDir(cacheRoot, "codex")).toBe(pinned.dir);
    // Once the sandbox is gone, the version is no longer in use.
    expect((await pruneToolchains(cacheRoot)).removed).toEqual(["codex-0.150.0"]);
  });

  it("is a no-op on a missing cache", async () => {
    expect(await pruneToolchains(path.join(tempDir("kiln-toolchains-"), "missing"))).toEqual({
      removed: [],
      inUse: [],
    });
  });
});
