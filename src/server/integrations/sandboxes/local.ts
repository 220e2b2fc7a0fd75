import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ProviderError } from "../provider-error";
import { createCgroups, removeCgroups } from "./local-cgroups";
import { errnoOf, localSandboxError } from "./local-errors";
import { copyDirectoryInto } from "./local-files";
import { defaultSandboxPath, findExecutable } from "./local-isolation";
import {
  isLocalSandboxId,
  type LocalSandboxMetadata,
  newSandboxId,
  readEnv,
  readMetadata,
  sandboxDirs,
  writeEnv,
  writeMetadata,
} from "./local-metadata";
import { allocatePorts, defaultPortRange } from "./local-ports";
import { type LocalRuntime, LocalSandbox } from "./local-sandbox";
import type { CreateSandboxInput, Sandboxes, SandboxHandle } from "./port";
import { assertValidCreateInput } from "./sandbox-paths";

/**
 * Local sandboxes: a directory per sandbox under `root` (`work/` is the working directory, plus its own `home/`
 * and `tmp/`), commands run as bubblewrap-isolated process trees when bwrap is installed (read-only host, only
 * the sandbox's own directories writable, own pid namespace, no capabilities, no platform environment), with
 * cgroup v1 memory/pids limits where writable. The network is shared with the host: previews listen on host
 * ports allocated per sandbox. Without bwrap, commands are plain processes with the same scrubbed environment and
 * working directory but no filesystem isolation.
 *
 * With bwrap, sandbox processes die with the platform process (`--die-with-parent`); after a restart `get()`
 * reattaches to the files, metadata and timeout, and the caller restarts what it needs.
 */
export type LocalSandboxesOptions = {
  /** Parent directory of all sandboxes, e.g. `<dataDir>/sandboxes`; created if missing. */
  root: string;
  /** Host ports handed out for declared ports (inclusive). Default 61000-64999, outside the ephemeral range. */
  portRange?: [number, number];
  /** Memory limit per sandbox (cgroup) or per process (prlimit fallback); null for none. Default 4096. */
  memoryLimitMb?: number | null;
  /** Process limit per sandbox (cgroup only); null for none. Default 1024. */
  pidsLimit?: number | null;
  /** Path of bwrap; null forces plain processes; default: found in standard system directories. */
  bwrapPath?: string | null;
  /** Where cgroup v1 controllers are mounted; null disables cgroups (prlimit fallback). Default /sys/fs/cgroup. */
  cgroupRoot?: string | null;
  /**
   * More host paths hidden from bubblewrap sandboxes (an empty tmpfs over each): pass the platform's data directory
   * and checkout (its .env). Always hidden as well: the sandboxes root and the platform user's home (credentials like
   * ~/.npmrc, ~/.ssh), unless the platform's Node lives there.
   */
  hidePaths?: string[];
  /** PATH inside sandboxes. Default: standard system directories plus the platform's Node. */
  path?: string;
  /** Keep a stopped sandbox's directory (for inspection) instead of deleting it. Default false. */
  keepFilesOnStop?: boolean;
  /** Operator-facing notices: missing isolation, which limits apply. Each distinct notice is given once. */
  onWarning?: (message: string) => void;
};

const bwrapMissing =
  "bubblewrap not found: sandboxes run as plain processes without isolation; apt-get install bubblewrap";
const bwrapDisabled =
  "bubblewrap disabled (bwrapPath: null): sandboxes run as plain processes without isolation";

export function createLocalSandboxes(options: LocalSandboxesOptions): Sandboxes {
  return new LocalSandboxes(options);
}

class LocalSandboxes implements Sandboxes {
  readonly kind = "local" as const;
  private readonly handles = new Map<string, LocalSandbox>();
  private runtimePromise: Promise<LocalRuntime> | undefined;
  private readonly warned = new Set<string>();
  private cgroupsUnavailable: string | undefined;

  constructor(private readonly options: LocalSandboxesOptions) {
    const range = options.portRange ?? defaultPortRange;
    if (!Number.isInteger(range[0]) || !Number.isInteger(range[1]) || range[0] < 1 || range[1] > 65535) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        "Local sandboxes: portRange must be two ports 1-65535.",
      );
    }
    if (range[0] > range[1]) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        "Local sandboxes: portRange is empty (low > high).",
      );
    }
  }

  async create(input: CreateSandboxInput): Promise<SandboxHandle> {
    assertValidCreateInput("local-sandbox", input);
    if (input.source.kind === "snapshot") {
      throw new ProviderError(
        "local-sandbox",
        "unsupported",
        "Local sandboxes cannot start from a provider snapshot; start from the installed template directory (ensureTemplateCache) instead.",
      );
    }
    const runtime = await this.runtime();
    const hostPaths = await Promise.all((input.hostPaths ?? []).map((p) => checkHostPath(p, runtime.root)));
    const readOnlyPaths = await Promise.all(
      (input.readOnlyPaths ?? []).map((p) => checkHostPath(p, runtime.root)),
    );
    const id = newSandboxId();
    const dirs = sandboxDirs(runtime.root, id);
    let metadata: LocalSandboxMetadata | undefined;
    let cgroups: string[] = [];
    try {
      await fs.mkdir(dirs.dir, { mode: 0o700 });
      await Promise.all([fs.mkdir(dirs.work), fs.mkdir(dirs.home), fs.mkdir(dirs.tmp, { mode: 0o1777 })]);
      const ports = await allocatePorts(
        input.ports,
        this.options.portRange ?? defaultPortRange,
        runtime.reservedPorts,
      );
      for (const port of Object.values(ports)) runtime.reservedPorts.add(port);
      cgroups = await this.cgroupsFor(id, runtime);
      const now = Date.now();
      metadata = {
        version: 1,
        id,
        name: input.name,
        createdAt: now,
        expiresAt: now + input.timeoutMs,
        stoppedAt: null,
        ports,
        envKeys: Object.keys(input.env).sort(),
        hostPaths,
        readOnlyPaths,
        cgroups,
      };
      await writeEnv(dirs, input.env);
      await writeMetadata(dirs, metadata);
      const handle = new LocalSandbox(runtime, dirs, metadata, input.env, () => this.handles.delete(id));
      if (input.source.kind === "directory") await copyDirectoryInto(input.source.path, dirs.work);
      if (input.source.kind === "tarball") await handle.unpackTarball(input.source.data);
      handle.armTimer();
      this.handles.set(id, handle);
      return handle;
    } catch (error) {
      await discardFailedCreate(dirs.dir, cgroups);
      for (const port of Object.values(metadata?.ports ?? {})) runtime.reservedPorts.delete(port);
      throw localSandboxError(`creating sandbox ${JSON.stringify(input.name)}`, error);
    }
  }

  async get(id: string): Promise<SandboxHandle | null> {
    if (!isLocalSandboxId(id)) return null;
    const cached = this.handles.get(id);
    if (cached) return (await cached.isAlive()) ? cached : null;
    const runtime = await this.runtime();
    const dirs = sandboxDirs(runtime.root, id);
    const metadata = await readMetadata(dirs);
    if (!metadata || metadata.stoppedAt !== null) return null;
    const env = await readEnv(dirs);
    const cgroups = await existingDirs(metadata.cgroups);
    const handle = new LocalSandbox(runtime, dirs, { ...metadata, cgroups }, env, () =>
      this.handles.delete(id),
    );
    if (Date.now() >= metadata.expiresAt) {
      // It expired while no platform process was watching: finish the job now.
      await handle.stop();
      return null;
    }
    for (const port of Object.values(metadata.ports)) runtime.reservedPorts.add(port);
    handle.armTimer();
    this.handles.set(id, handle);
    return handle;
  }

  private runtime(): Promise<LocalRuntime> {
    this.runtimePromise ??= this.loadRuntime().catch((error: unknown) => {
      this.runtimePromise = undefined;
      throw localSandboxError("preparing the sandboxes directory", error);
    });
    return this.runtimePromise;
  }

  private async loadRuntime(): Promise<LocalRuntime> {
    await fs.mkdir(this.options.root, { recursive: true });
    const root = await fs.realpath(this.options.root);
    const searchPath = this.options.path ?? defaultSandboxPath();
    const bwrap = await this.findBwrap(searchPath);
    const hidePaths = await existingDirs([...defaultHidePaths(), ...(this.options.hidePaths ?? [])]);
    const prlimit = await findExecutable("prlimit", defaultSandboxPath());
    const runtime: LocalRuntime = {
      root,
      searchPath,
      bwrap,
      hidePaths,
      prlimit,
      memoryLimitMb: this.options.memoryLimitMb === undefined ? 4096 : this.options.memoryLimitMb,
      pidsLimit: this.options.pidsLimit === undefined ? 1024 : this.options.pidsLimit,
      keepFilesOnStop: this.options.keepFilesOnStop ?? false,
      reservedPorts: new Set(),
      warn: (message) => this.warn(message),
    };
    await this.sweep(runtime);
    return runtime;
  }

  /**
   * Takes stock of the sandboxes a previous platform process left: live ones keep their ports reserved; ones
   * that expired while nobody watched are stopped now (processes, cgroups, files), so they do not pile up.
   */
  private async sweep(runtime: LocalRuntime): Promise<void> {
    const entries = await fs.readdir(runtime.root);
    for (const id of entries.filter(isLocalSandboxId)) {
      const dirs = sandboxDirs(runtime.root, id);
      const metadata = await readMetadata(dirs).catch((error: unknown) => {
        // One corrupt sandbox must not stop the platform from creating others.
        if (error instanceof ProviderError) return undefined;
        throw error;
      });
      if (!metadata || metadata.stoppedAt !== null) continue;
      if (metadata.expiresAt > Date.now()) {
        for (const port of Object.values(metadata.ports)) runtime.reservedPorts.add(port);
        continue;
      }
      const cgroups = await existingDirs(metadata.cgroups);
      const expired = new LocalSandbox(runtime, dirs, { ...metadata, cgroups }, {}, () => undefined);
      await expired.stop().catch((error: unknown) => {
        if (!(error instanceof ProviderError)) throw error;
        runtime.warn(`could not clean up expired sandbox ${id}: ${error.message}`);
      });
    }
  }

  private async findBwrap(searchPath: string): Promise<string | undefined> {
    if (this.options.bwrapPath === null) {
      this.warn(bwrapDisabled);
      return undefined;
    }
    if (this.options.bwrapPath !== undefined) {
      const found = await findExecutable(
        path.basename(this.options.bwrapPath),
        path.dirname(this.options.bwrapPath),
      );
      if (!found) {
        throw new ProviderError(
          "local-sandbox",
          "invalid",
          `Local sandboxes: bwrapPath ${this.options.bwrapPath} is not an executable; fix it or install bubblewrap.`,
        );
      }
      return found;
    }
    const found = await findExecutable("bwrap", `${searchPath}:${defaultSandboxPath()}`);
    if (!found) this.warn(bwrapMissing);
    return found;
  }

  /** cgroups when the host lets us; otherwise remember why, and say once what applies instead. */
  private async cgroupsFor(id: string, runtime: LocalRuntime): Promise<string[]> {
    const limits = { memoryLimitMb: runtime.memoryLimitMb, pidsLimit: runtime.pidsLimit };
    if (limits.memoryLimitMb === null && limits.pidsLimit === null) return [];
    const cgroupRoot = this.options.cgroupRoot === undefined ? "/sys/fs/cgroup" : this.options.cgroupRoot;
    if (cgroupRoot !== null && this.cgroupsUnavailable === undefined) {
      const setup = await createCgroups(cgroupRoot, id, limits);
      if ("applied" in setup) {
        this.warn(`sandbox limits: cgroup v1, ${setup.applied} per sandbox`);
        return setup.dirs;
      }
      this.cgroupsUnavailable = setup.unavailable;
    }
    runtime.useRlimits = true;
    const why =
      cgroupRoot === null ? "cgroups disabled" : `cgroup v1 not writable (${this.cgroupsUnavailable})`;
    if (runtime.prlimit && limits.memoryLimitMb !== null) {
      this.warn(
        `sandbox limits: ${why}; applying RLIMIT_DATA ${limits.memoryLimitMb} MiB per process with prlimit, ` +
          "no limit on total memory or process count",
      );
    } else {
      this.warn(
        `sandbox limits: ${why} and prlimit unavailable; sandboxes run without memory or process limits`,
      );
    }
    return [];
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.onWarning?.(message);
  }
}

async function checkHostPath(hostPath: string, root: string): Promise<string> {
  const invalid = (why: string) =>
    new ProviderError("local-sandbox", "invalid", `Local sandbox: host path ${hostPath} ${why}.`);
  if (!path.isAbsolute(hostPath)) throw invalid("must be absolute");
  let real: string;
  try {
    real = await fs.realpath(hostPath);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") throw invalid("does not exist");
    throw localSandboxError(`checking host path ${hostPath}`, error);
  }
  const relative = path.relative(real, root);
  if (real === "/" || relative === "" || !relative.startsWith("..")) {
    throw invalid("would expose the whole host or every sandbox; bind a narrower directory");
  }
  return real;
}

function defaultHidePaths(): string[] {
  const home = os.userInfo().homedir;
  if (!home || home === "/") return [];
  const relative = path.relative(home, process.execPath);
  const nodeInsideHome = !relative.startsWith("..") && !path.isAbsolute(relative);
  return nodeInsideHome ? [] : [home];
}

async function existingDirs(dirs: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    try {
      if ((await fs.stat(dir)).isDirectory()) found.push(await fs.realpath(dir));
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw localSandboxError(`checking ${dir}`, error);
    }
  }
  return found;
}

async function discardFailedCreate(dir: string, cgroups: string[]): Promise<void> {
  await removeCgroups(cgroups);
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
