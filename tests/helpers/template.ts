import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ensureTemplateCache, type TemplateCache } from "../../src/server/templates/template-cache";
import { templateFiles as listTemplateFiles } from "../../src/server/templates/template-version";

// The generated-app template (templates/nextjs-app) is tested as a user gets it: copied without node_modules,
// installed with `npm ci`, built, migrated and started. The install goes through the platform's warm-start cache,
// so one install serves every test file of a run, and later runs while the template is unchanged.

export const TEMPLATE_DIR = path.resolve("templates/nextjs-app");

export type RunResult = { code: number; stdout: string; stderr: string };

/**
 * Runs a command (argument array, no shell) and collects its output; never throws for a non-zero exit.
 * A command still running after `timeoutMs` is killed and reported with code 124.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? templateEnv(),
      stdio: "pipe",
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
    });
  });
}

/**
 * The environment the template's commands see: this process's, minus what Vitest and a parent `npm run` add
 * (NODE_ENV=test breaks `next build`), minus any DATABASE_URL, plus `extra`.
 */
export function templateEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  for (const key of Object.keys(env)) {
    const inherited =
      key === "NODE_ENV" ||
      key === "DATABASE_URL" ||
      key === "INIT_CWD" ||
      key === "npm_config_local_prefix" ||
      key.startsWith("VITEST") ||
      key.startsWith("npm_package_") ||
      key.startsWith("npm_lifecycle_");
    if (inherited) delete env[key];
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

let cache: Promise<TemplateCache> | undefined;

/**
 * The installed template, through the platform's own warm-start cache (`ensureTemplateCache`). The cache lives in
 * the machine's temp dir and is keyed by template version, so a test run installs it at most once (and not at all
 * when the template is unchanged since the last run); concurrent workers wait on the cache's lock.
 */
export function templateCache(): Promise<TemplateCache> {
  cache ??= ensureTemplateCache({
    templateDir: TEMPLATE_DIR,
    cacheRoot: path.join(os.tmpdir(), "kiln-test-template-cache"),
    onProgress: (message) => console.log(`[template] ${message}`),
  });
  return cache;
}

/**
 * A directory holding the template with its dependencies installed by `npm ci`. Shared by every test: treat it as
 * read-only, and use `templateWorkspace()` for anything that writes (a build, an extra file).
 */
export async function installedTemplate(): Promise<string> {
  return (await templateCache()).dir;
}

/** Template files that make up the app, relative to its root, sorted (the platform's own definition). */
export function templateFiles(root = TEMPLATE_DIR): Promise<string[]> {
  return listTemplateFiles(root);
}

export type Workspace = { dir: string; dispose(): void };

/**
 * A private copy of the installed template, made of hard links (a second or two for ~20k files): build into it,
 * add files to it. Never modify a file in place: it is shared with the install. `writeWorkspaceFile` replaces one.
 */
export async function templateWorkspace(): Promise<Workspace> {
  const source = await installedTemplate();
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-template-ws-"));
  const dir = path.join(parent, "app");
  const copied = await run("cp", ["-al", source, dir], { cwd: parent, timeoutMs: 120_000 });
  if (copied.code !== 0) throw new Error(`cp -al failed: ${copied.stderr}`);
  return { dir, dispose: () => fs.rmSync(parent, { recursive: true, force: true }) };
}

/** Replaces a workspace file with a new one (unlinking first, so the hard-linked original stays untouched). */
export function writeWorkspaceFile(workspace: string, relative: string, content: string): void {
  const file = path.join(workspace, relative);
  fs.rmSync(file, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** `npm run -s migrate -- <args>` in `dir` against `databaseUrl` (or with no DATABASE_URL at all). */
export function runMigrate(dir: string, databaseUrl: string | undefined, args: string[]): Promise<RunResult> {
  return run("npm", ["run", "-s", "migrate", "--", ...args], {
    cwd: dir,
    env: templateEnv({ DATABASE_URL: databaseUrl }),
    timeoutMs: 60_000,
  });
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`process exited (${child.exitCode}) before listening:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms:\n${output()}`);
}

export type RunningApp = { url: string; output(): string; stop(): Promise<void> };

/**
 * `next start` of a built workspace on a free port given as PORT (as the platform's preview does), with
 * DATABASE_URL set to `databaseUrl` (or unset).
 */
export async function startApp(dir: string, databaseUrl: string | undefined): Promise<RunningApp> {
  const port = await freePort();
  const child = spawn(path.join(dir, "node_modules/.bin/next"), ["start", "--hostname", "127.0.0.1"], {
    cwd: dir,
    env: templateEnv({ DATABASE_URL: databaseUrl, PORT: String(port) }),
    stdio: "pipe",
  });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const stop = async () => {
    child.kill("SIGTERM");
    await waitForExit(child, 5_000);
  };
  try {
    await waitForPort(port, child, () => log, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, output: () => log, stop };
}

export type ThrowawayMariadb = {
  /** URL of database `app` as user `app` (with a password, so tests can check it never leaks). */
  url: string;
  password: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
};

export const hasMariadbBinaries = [
  "/usr/sbin/mariadbd",
  "/usr/bin/mariadb-install-db",
  "/usr/bin/mariadb",
].every((file) => fs.existsSync(file));

/**
 * A private MariaDB server (mariadb-install-db + mariadbd on a free port, datadir under tmp) that a test can stop
 * and start again, to observe what the app does when its database goes away and comes back.
 */
export async function startThrowawayMariadb(): Promise<ThrowawayMariadb> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-mariadb-"));
  const datadir = path.join(root, "data");
  const port = await freePort();
  const password = `planted-Secret-${process.pid}-${port}`;
  const installedDb = await run(
    "/usr/bin/mariadb-install-db",
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      "--user=root",
    ],
    { cwd: root, env: process.env, timeoutMs: 60_000 },
  );
  if (installedDb.code !== 0)
    throw new Error(`mariadb-install-db failed:\n${installedDb.stdout}${installedDb.stderr}`);

  let server: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(
      "/usr/sbin/mariadbd",
      [
        "--no-defaults",
        `--datadir=${datadir}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${path.join(root, "mysqld.sock")}`,
        `--pid-file=${path.join(root, "mysqld.pid")}`,
        "--user=root",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
      ],
      { cwd: root, stdio: "pipe" },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    server = child;
    await waitForPort(port, child, () => log, 30_000);
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child) return;
    child.kill("SIGTERM");
    await waitForExit(child, 15_000);
  };

  await start();
  const sqlResult = await run(
    "/usr/bin/mariadb",
    [
      "--no-defaults",
      "-h127.0.0.1",
      `-P${port}`,
      "-uroot",
      "-e",
      `CREATE DATABASE app CHARACTER SET utf8mb4; CREATE USER 'app'@'%' IDENTIFIED BY '${password}'; GRANT ALL ON app.* TO 'app'@'%';`,
    ],
    { cwd: root, env: process.env, timeoutMs: 30_000 },
  );
  if (sqlResult.code !== 0) {
    await stop();
    throw new Error(`could not create the app user:\n${sqlResult.stderr}`);
  }
  return {
    url: `mysql://app:${encodeURIComponent(password)}@127.0.0.1:${port}/app`,
    password,
    start,
    stop,
    async dispose() {
      await stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
