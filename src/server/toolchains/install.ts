import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { type AgentKind, agentDefinition } from "@/agents/registry";
import { isLockHeld, withDirLock } from "@/server/fs/dir-lock";
import { ToolchainError } from "./errors";
import { npmEnv, RunFailed, type RunFailure, runFile, secretValues } from "./npm";
import { type ToolchainSpec, toolchainSpec } from "./toolchain-spec";
import { makeReadOnlyForOthers, treeSize } from "./tree";

/**
 * Agent CLIs are installed once per pinned version into `<cacheRoot>/<agent>-<version>/` and shared read-only by
 * every local sandbox (a read-only bind of `dir`), never downloaded per run. An install happens in a temporary
 * sibling directory; the completion marker is written last and the directory renamed into place, so a crash
 * leaves either nothing or a complete tree, never a half one that looks complete. A directory lock keeps two
 * platform processes (or test workers) from installing the same version at once.
 */

export type Toolchain = {
  agent: AgentKind;
  package: string;
  version: string;
  /** The version's directory: what a sandbox binds read-only. */
  dir: string;
  /** `<dir>/node_modules/.bin/<bin>`: the same path inside a local sandbox. */
  binPath: string;
  sizeBytes: number;
  /** True when this call installed it (false: it was already in the cache). */
  installed: boolean;
};

export type EnsureToolchainOptions = {
  /** e.g. `<dataDir>/toolchains`; created if missing. */
  cacheRoot: string;
  agent: AgentKind;
  /** Operator-facing progress lines ("Installing Codex 0.169.0 (first use, one time)…"). */
  onProgress?: (message: string) => void;
  /** Default: the npm next to the platform's Node, else `npm` on PATH. */
  npmPath?: string;
  /**
   * The platform's environment; only what npm needs to reach the registry (PATH, HOME, proxy and CA settings,
   * npm_config_*) is passed on. Default: process.env.
   */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Bound on `npm install`. Default 10 minutes. */
  installTimeoutMs?: number;
};

const markerName = ".kiln-toolchain.json";
const versionTimeoutMs = 30_000;

const markerSchema = z.object({
  agent: z.string(),
  package: z.string(),
  version: z.string(),
  bin: z.string(),
  installedAt: z.string(),
  installMs: z.number(),
  sizeBytes: z.number(),
});

export function toolchainDir(cacheRoot: string, agent: AgentKind): string {
  const spec = toolchainSpec(agent);
  return path.join(path.resolve(cacheRoot), `${spec.agent}-${spec.version}`);
}

function binPathIn(dir: string, spec: ToolchainSpec): string {
  return path.join(dir, "node_modules", ".bin", spec.bin);
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function fsError(action: string, target: string, error: unknown): ToolchainError {
  const code = errnoOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const hint =
    code === "EACCES" || code === "EPERM" || code === "EROFS"
      ? ` Make ${target} writable by the user the platform runs as.`
      : code === "ENOSPC" || code === "EDQUOT"
        ? ` The disk holding ${target} is full; free space (an agent toolchain needs about 400 MB).`
        : "";
  return new ToolchainError(`Agent toolchains: ${action} failed: ${detail}.${hint}`, { cause: error });
}

/** The toolchain if it is completely installed in the cache; undefined when it is not (or is damaged). */
export async function findToolchain(cacheRoot: string, agent: AgentKind): Promise<Toolchain | undefined> {
  const spec = toolchainSpec(agent);
  const dir = toolchainDir(await realRoot(cacheRoot), agent);
  let raw: string;
  try {
    raw = await fs.readFile(path.join(dir, markerName), "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw fsError(`reading ${path.join(dir, markerName)}`, dir, error);
  }
  const marker = markerSchema.safeParse(parseJson(raw));
  if (!marker.success) return undefined;
  const { data } = marker;
  if (data.package !== spec.package || data.version !== spec.version || data.bin !== spec.bin)
    return undefined;
  const binPath = binPathIn(dir, spec);
  try {
    await fs.access(binPath, fs.constants.X_OK);
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "EACCES") return undefined;
    throw fsError(`checking ${binPath}`, dir, error);
  }
  return {
    agent,
    package: spec.package,
    version: spec.version,
    dir,
    binPath,
    sizeBytes: data.sizeBytes,
    installed: false,
  };
}

/** Whether a live process (this one, another app server, a build) is installing `agent`'s pinned version now. */
export async function isToolchainInstalling(cacheRoot: string, agent: AgentKind): Promise<boolean> {
  return isLockHeld(toolchainLockDir(await realRoot(cacheRoot), agent));
}

/**
 * The cache root with symlinks resolved: local sandboxes bind host paths at their real path, so the paths handed
 * out (and run inside sandboxes) must be real too.
 */
async function realRoot(cacheRoot: string): Promise<string> {
  try {
    return await fs.realpath(cacheRoot);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return path.resolve(cacheRoot);
    throw fsError(`resolving ${cacheRoot}`, cacheRoot, error);
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * One install per directory per process, other processes kept out by the directory lock. Shared by every bundled
 * copy of this module (Next bundles instrumentation and routes apart), so a build joins the boot preparation's
 * install in flight instead of polling its lock.
 */
const INSTALLS = Symbol.for("kiln.toolchainInstalls");
const inFlight: Map<string, Promise<Toolchain>> = (() => {
  const existing: unknown = Reflect.get(globalThis, INSTALLS);
  if (existing instanceof Map) return existing;
  const created = new Map<string, Promise<Toolchain>>();
  Reflect.set(globalThis, INSTALLS, created);
  return created;
})();

/** The lock an install of `agent`'s pinned version holds (under the real cache root). */
function toolchainLockDir(realCacheRoot: string, agent: AgentKind): string {
  const spec = toolchainSpec(agent);
  return path.join(realCacheRoot, `.lock-${spec.agent}-${spec.version}`);
}

/** The pinned version of `agent`'s CLI, installed into the cache first if it is not there yet. */
export async function ensureToolchain(options: EnsureToolchainOptions): Promise<Toolchain> {
  const found = await findToolchain(options.cacheRoot, options.agent);
  if (found) return found;
  const dir = toolchainDir(options.cacheRoot, options.agent);
  const joined = inFlight.get(dir);
  if (joined) {
    const spec = toolchainSpec(options.agent);
    options.onProgress?.(`Waiting for the install of ${spec.label} ${spec.version} already under way…`);
    try {
      return await joined;
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      // The install this call waited for (the boot preparation's, say) failed; the caller needs the CLI, so it tries
      // once itself, as it would have with nobody to wait for.
      options.onProgress?.(`That install failed; installing ${spec.label} ${spec.version} again…`);
    }
  }
  // Another caller that waited may have started the second try already.
  const retrying = inFlight.get(dir);
  if (retrying) return retrying;
  const pending = installLocked(options).finally(() => inFlight.delete(dir));
  inFlight.set(dir, pending);
  return pending;
}

async function installLocked(options: EnsureToolchainOptions): Promise<Toolchain> {
  const spec = toolchainSpec(options.agent);
  try {
    await fs.mkdir(options.cacheRoot, { recursive: true });
  } catch (error) {
    throw fsError(`creating the toolchain cache ${options.cacheRoot}`, options.cacheRoot, error);
  }
  const cacheRoot = await realRoot(options.cacheRoot);
  const dir = toolchainDir(cacheRoot, options.agent);
  const installTimeoutMs = options.installTimeoutMs ?? 10 * 60_000;
  const lockDir = toolchainLockDir(cacheRoot, options.agent);
  if (await pathExists(lockDir)) {
    options.onProgress?.(
      `Waiting for another Kiln process to finish installing ${spec.label} ${spec.version}…`,
    );
  }
  const work = async () =>
    (await findToolchain(cacheRoot, options.agent)) ?? install(spec, cacheRoot, dir, options);
  try {
    // A dead holder on this host is taken over at once (its pid is gone); one on another host only after the
    // install bound, so a live install elsewhere is never broken into.
    return await withDirLock(lockDir, work, {
      staleMs: installTimeoutMs + 2 * 60_000,
      waitMs: installTimeoutMs + 3 * 60_000,
    });
  } catch (error) {
    if (error instanceof ToolchainError) throw error;
    throw fsError(`installing ${spec.label} ${spec.version} into ${dir}`, cacheRoot, error);
  }
}

async function pathExists(target: string): Promise<boolean> {
  try {
    await fs.lstat(target);
    return true;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return false;
    throw fsError(`checking ${target}`, target, error);
  }
}

async function install(
  spec: ToolchainSpec,
  cacheRoot: string,
  dir: string,
  options: EnsureToolchainOptions,
): Promise<Toolchain> {
  const started = Date.now();
  const hostEnv = options.hostEnv ?? process.env;
  const env = npmEnv(hostEnv);
  const secrets = secretValues(hostEnv);
  options.onProgress?.(`Installing ${spec.label} ${spec.version} (first use, one time)…`);
  const temp = path.join(cacheRoot, `.tmp-${spec.agent}-${spec.version}-${randomBytes(4).toString("hex")}`);
  try {
    await fs.mkdir(temp);
    // An exact dependency in a private manifest: npm resolves nothing else and writes its lockfile here only.
    const manifest = {
      name: `kiln-toolchain-${spec.agent}`,
      private: true,
      dependencies: { [spec.package]: spec.version },
    };
    await fs.writeFile(path.join(temp, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const npmArgs = [
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--include=optional",
      "--omit=dev",
      "--no-update-notifier",
      "--loglevel=warn",
    ];
    const npm = options.npmPath ?? (await defaultNpm());
    await step(spec, `npm install ${spec.package}@${spec.version}`, () =>
      runFile(npm, npmArgs, { cwd: temp, env, timeoutMs: options.installTimeoutMs ?? 10 * 60_000, secrets }),
    );
    if (spec.postinstall) {
      const script = path.join(temp, spec.postinstall);
      await step(spec, `its install script (node ${spec.postinstall})`, () =>
        runFile(process.execPath, [script], { cwd: temp, env, timeoutMs: 5 * 60_000, secrets }),
      );
    }
    await checkVersion(spec, temp, secrets);
    await makeReadOnlyForOthers(temp);
    const sizeBytes = await treeSize(temp);
    const marker = {
      agent: spec.agent,
      package: spec.package,
      version: spec.version,
      bin: spec.bin,
      installedAt: new Date().toISOString(),
      installMs: Date.now() - started,
      sizeBytes,
    };
    // Last, then the rename: the marker is what says "complete", so it must never exist in a half tree.
    await fs.writeFile(path.join(temp, markerName), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o644 });
    await moveAside(dir, cacheRoot);
    await fs.rename(temp, dir);
    options.onProgress?.(
      `${spec.label} ${spec.version} ready (${Math.max(1, Math.round(marker.installMs / 1000))} s)`,
    );
    return {
      agent: spec.agent,
      package: spec.package,
      version: spec.version,
      dir,
      binPath: binPathIn(dir, spec),
      sizeBytes,
      installed: true,
    };
  } catch (error) {
    if (error instanceof ToolchainError) throw error;
    throw fsError(`installing ${spec.label} ${spec.version} into ${dir}`, cacheRoot, error);
  } finally {
    await fs.rm(temp, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A directory left without a valid marker (tampered with, or an older Kiln's layout) is replaced, not reused. */
async function moveAside(dir: string, cacheRoot: string): Promise<void> {
  if (!(await pathExists(dir))) return;
  const trash = path.join(cacheRoot, `.trash-${path.basename(dir)}-${randomBytes(4).toString("hex")}`);
  await fs.rename(dir, trash);
  await fs.rm(trash, { recursive: true, force: true, maxRetries: 3 });
}

/** The npm that came with the platform's Node, else whichever `npm` is first on PATH. */
async function defaultNpm(): Promise<string> {
  const besideNode = path.join(path.dirname(process.execPath), "npm");
  try {
    await fs.access(besideNode, fs.constants.X_OK);
    return besideNode;
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "EACCES") return "npm";
    throw error;
  }
}

async function step(spec: ToolchainSpec, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof RunFailed)) throw error;
    throw new ToolchainError(describeFailure(spec, what, error.failure), { cause: error });
  }
}

function describeFailure(spec: ToolchainSpec, what: string, failure: RunFailure): string {
  const head = `Installing ${spec.label} ${spec.version} failed: ${what}`;
  if (failure.reason === "missing") {
    return `${head} could not start (executable not found). Install Node.js with npm on this server, or pass npmPath.`;
  }
  if (failure.reason === "timeout") {
    return `${head} did not finish in time. Check that the npm registry is reachable from this server (npm config get registry), then retry.`;
  }
  return (
    `${head} exited with ${failure.exitCode ?? "a signal"}. Check that the npm registry is reachable from this ` +
    `server (npm config get registry) and that the disk has about 400 MB free, then retry.` +
    (failure.tail ? `\nLast output:\n${failure.tail}` : "")
  );
}

/** The installed CLI must start and report the pinned version: a wrong or broken build never enters the cache. */
async function checkVersion(spec: ToolchainSpec, temp: string, secrets: string[]): Promise<void> {
  const binPath = binPathIn(temp, spec);
  // The CLIs may create config dirs on first start: keep that inside the tree being checked, then drop it.
  const home = path.join(temp, ".kiln-version-check");
  await fs.mkdir(home);
  const env = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ...agentDefinition(spec.agent).versionCheckEnv(home),
    LANG: "C.UTF-8",
  };
  let output: string;
  try {
    const result = await runFile(binPath, ["--version"], {
      cwd: home,
      env,
      timeoutMs: versionTimeoutMs,
      secrets,
    });
    output = `${result.stdout}${result.stderr}`.trim();
  } catch (error) {
    if (!(error instanceof RunFailed)) throw error;
    const why = error.failure.reason === "timeout" ? "did not answer in time" : "failed";
    throw new ToolchainError(
      `Installing ${spec.label} ${spec.version} failed: \`${spec.bin} --version\` ${why} after npm install; ` +
        `the package's native binary is probably missing for this platform (${process.platform}-${process.arch}).` +
        (error.failure.tail ? `\nLast output:\n${error.failure.tail}` : ""),
      { cause: error },
    );
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
  const escaped = spec.version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (!new RegExp(`(^|[^0-9.])${escaped}([^0-9.]|$)`).test(output)) {
    throw new ToolchainError(
      `Installing ${spec.label} ${spec.version} failed: \`${spec.bin} --version\` printed ` +
        `${JSON.stringify(output.slice(0, 200))}, not ${spec.version}. The registry served another build; ` +
        `check the registry (npm config get registry) or the pinned version in src/agents/${spec.agent}/definition.ts.`,
    );
  }
}
