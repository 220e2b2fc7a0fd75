import dns from "node:dns/promises";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { LookupAll } from "@/server/credentials/model-url-policy";
import { ProviderError } from "../provider-error";
import { createCgroups, removeCgroups } from "./local-cgroups";
import { defaultRefusedAddress, type EgressPolicy } from "./local-egress-proxy";
import { errnoOf, localSandboxError } from "./local-errors";
import { copyDirectoryInto } from "./local-files";
import { defaultSandboxPath, findExecutable, type SandboxUser, systemMounts } from "./local-isolation";
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
import { closeSandboxNetwork, egressPort, type NetworkTools } from "./local-network";
import { allocatePorts, defaultPortRange } from "./local-ports";
import { type LocalRuntime, LocalSandbox } from "./local-sandbox";
import type { CreateSandboxInput, Sandboxes, SandboxHandle } from "./port";
import { assertValidCreateInput } from "./sandbox-paths";

/**
 * Local sandboxes: a directory per sandbox under `root` (`work/` is the working directory, plus its own `home/`
 * and `tmp/`), commands run as bubblewrap-isolated process trees when bwrap is installed (only the system paths
 * read-only and the sandbox's own directories read-write, own user/pid namespaces, no capabilities, no platform
 * environment), as an unprivileged uid of their own when the platform is root (`sandboxUser`), with
 * cgroup v1 memory/pids limits where writable. Under root, each sandbox has a network namespace of its own whose
 * only ways out are an allow-list egress proxy and the platform's door (local-network.ts); previews are reached
 * through host ports allocated per sandbox. Without root the network is the host's (a warning says so). Without bwrap, commands are plain processes with the same scrubbed environment and
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
  /** CPU cores per sandbox (cgroup cpu quota, where the controller is writable) unless create() gives vcpus; null for none. Default 2. */
  cpuLimit?: number | null;
  /** Process limit per sandbox (cgroup only); null for none. Default 1024. */
  pidsLimit?: number | null;
  /** Path of bwrap; null forces plain processes; default: found in standard system directories. */
  bwrapPath?: string | null;
  /** Where cgroup v1 controllers are mounted; null disables cgroups (prlimit fallback). Default /sys/fs/cgroup. */
  cgroupRoot?: string | null;
  /**
   * Bubblewrap sandboxes see only the system paths (/usr, /etc, /opt…) besides their own directories; these host
   * paths stay hidden even when they sit inside one of those (Kiln installed under /opt): pass the platform's data
   * directory and checkout (its .env). Always hidden as well: the sandboxes root and the platform user's home.
   */
  hidePaths?: string[];
  /**
   * The host uid/gid sandbox processes run as when the platform runs as root (default 64100:64100; must not be a
   * uid anything else on the host uses). Sandbox directories are theirs; the template cache stays the platform's,
   * so hard-linked dependencies cannot be changed in place. null: run as the platform's uid (the sandbox is then
   * root on the host's files, and node_modules are copied instead of linked). A non-root platform cannot switch
   * uid: sandboxes run as its own uid inside their user namespace, node_modules copied.
   */
  sandboxUser?: SandboxUser | null;
  /** PATH inside sandboxes. Default: standard system directories plus the platform's Node. */
  path?: string;
  /** Keep a stopped sandbox's directory (for inspection) instead of deleting it. Default false. */
  keepFilesOnStop?: boolean;
  /**
   * The sandbox's network (needs root, bwrap, ip, nsenter, setpriv and socat). null: share the host's network, as
   * before — anything on the host's loopback is then reachable (a warning says so).
   */
  network?: LocalNetworkOptions | null;
  /** Operator-facing notices: missing isolation, which limits apply. Each distinct notice is given once. */
  onWarning?: (message: string) => void;
};

export type LocalNetworkOptions = {
  /** Hosts the egress proxy connects to (`host`, `*.domain`, `host:port`). Default: registry.npmjs.org. */
  allowedHosts?: string[];
  /** Of those, the platform's own package registry: reached at whatever address it resolves to. */
  trustedHosts?: string[];
  /** Tests only: name resolution and the address filter of the egress proxy. */
  resolve?: LookupAll;
  isRefusedAddress?: (address: string) => boolean;
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
  readonly diesWithPlatform = true;
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
    const owner = runtime.owner;
    // Host paths become the sandbox's own below; what leads to them, and read-only paths, must be searchable.
    if (owner) {
      for (const dir of hostPaths) await makeReachable(path.dirname(dir), owner, runtime.warn);
      for (const dir of readOnlyPaths) await makeReachable(dir, owner, runtime.warn);
    }
    const id = newSandboxId();
    const dirs = sandboxDirs(runtime.root, id);
    let metadata: LocalSandboxMetadata | undefined;
    let cgroups: string[] = [];
    try {
      // 0711: bubblewrap, started as the sandbox's uid, must reach work/home/tmp to bind them; listing the
      // directory (env.json, sandbox.json) stays the platform's.
      await fs.mkdir(dirs.dir, { mode: 0o700 });
      await fs.chmod(dirs.dir, runtime.owner ? 0o711 : 0o700);
      await Promise.all([fs.mkdir(dirs.work), fs.mkdir(dirs.home), fs.mkdir(dirs.tmp, { mode: 0o1777 })]);
      if (owner) {
        await Promise.all([dirs.work, dirs.home, dirs.tmp].map((dir) => fs.chown(dir, owner.uid, owner.gid)));
        await fs.chmod(dirs.tmp, 0o1777);
        for (const hostPath of hostPaths) await chownTree(hostPath, owner);
      }
      const ports = await allocatePorts(
        input.ports,
        this.options.portRange ?? defaultPortRange,
        runtime.reservedPorts,
      );
      for (const port of Object.values(ports)) runtime.reservedPorts.add(port);
      cgroups = await this.cgroupsFor(id, runtime, input.vcpus);
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
        ...(runtime.network ? { network: { tcp: checkTcpEndpoints(input.tcpEndpoints ?? []) } } : {}),
      };
      await writeEnv(dirs, input.env);
      await writeMetadata(dirs, metadata);
      const handle = new LocalSandbox(runtime, dirs, metadata, input.env, () => this.handles.delete(id));
      await handle.openNetwork();
      if (input.source.kind === "directory")
        await copyDirectoryInto(input.source.path, dirs.work, runtime.owner);
      if (input.source.kind === "tarball") await handle.unpackTarball(input.source.data);
      handle.armTimer();
      this.handles.set(id, handle);
      return handle;
    } catch (error) {
      if (runtime.network) await closeSandboxNetwork(runtime.network.tools, id);
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
    await handle.openNetwork();
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
    const owner = sandboxUserOf(this.options.sandboxUser);
    if (owner) await makeReachable(root, owner, (message) => this.warn(message));
    const runtime: LocalRuntime = {
      root,
      searchPath,
      bwrap,
      hidePaths,
      system: bwrap ? await systemMounts() : [],
      owner,
      prlimit,
      memoryLimitMb: this.options.memoryLimitMb === undefined ? 4096 : this.options.memoryLimitMb,
      pidsLimit: this.options.pidsLimit === undefined ? 1024 : this.options.pidsLimit,
      keepFilesOnStop: this.options.keepFilesOnStop ?? false,
      reservedPorts: new Set(),
      network: bwrap && owner ? await this.networkFor(searchPath) : undefined,
      warn: (message) => this.warn(message),
    };
    if (!runtime.network) {
      this.warn(
        "sandboxes share the host's network (needs root, bubblewrap, ip, nsenter, setpriv and socat): " +
          "they can reach every service on the host's loopback and private network",
      );
    }
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

  private async networkFor(searchPath: string): Promise<LocalRuntime["network"]> {
    const options = this.options.network;
    if (options === null) return undefined;
    const lookIn = `${searchPath}:${defaultSandboxPath()}`;
    const [ip, nsenter, setpriv, socat] = await Promise.all(
      ["ip", "nsenter", "setpriv", "socat"].map((name) => findExecutable(name, lookIn)),
    );
    if (!ip || !nsenter || !setpriv || !socat) return undefined;
    const tools: NetworkTools = { ip, nsenter, setpriv, socat };
    const policy: EgressPolicy = {
      allowedHosts: options?.allowedHosts ?? ["registry.npmjs.org"],
      trustedHosts: options?.trustedHosts ?? ["registry.npmjs.org"],
      resolve: options?.resolve ?? systemLookupAll,
      isRefusedAddress: options?.isRefusedAddress ?? defaultRefusedAddress,
    };
    return { tools, policy };
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
  private async cgroupsFor(id: string, runtime: LocalRuntime, vcpus: number | undefined): Promise<string[]> {
    const cpus = vcpus ?? (this.options.cpuLimit === undefined ? 2 : this.options.cpuLimit);
    const limits = { memoryLimitMb: runtime.memoryLimitMb, pidsLimit: runtime.pidsLimit, cpus };
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

const systemLookupAll: LookupAll = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** A database server reachable inside the namespace at its own address: an IPv4 literal (or localhost) and a port. */
function checkTcpEndpoints(
  endpoints: Array<{ host: string; port: number }>,
): Array<{ host: string; port: number }> {
  return endpoints.map(({ host, port }) => {
    const address = host === "localhost" ? "127.0.0.1" : host;
    if (!net.isIPv4(address) || !Number.isInteger(port) || port < 1 || port > 65535 || port === egressPort) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        `Local sandbox: TCP endpoint ${host}:${port} must be an IPv4 address (or localhost) and a port.`,
      );
    }
    return { host: address, port };
  });
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

const defaultSandboxUser: SandboxUser = { uid: 64100, gid: 64100 };

function sandboxUserOf(configured: SandboxUser | null | undefined): SandboxUser | undefined {
  if (process.getuid?.() !== 0 || configured === null) return undefined;
  const user = configured ?? defaultSandboxUser;
  if (!Number.isInteger(user.uid) || !Number.isInteger(user.gid) || user.uid <= 0 || user.gid <= 0) {
    throw new ProviderError(
      "local-sandbox",
      "invalid",
      "Local sandboxes: sandboxUser needs a uid and gid above 0 (KILN_SANDBOX_UID).",
    );
  }
  return user;
}

/**
 * bubblewrap runs as the sandbox's uid and binds the sandbox's directories from the host by path, so it must be
 * able to walk down to them: every ancestor searchable by that uid. A directory of the platform's in the way
 * (a data dir made with mode 0700) gets the search bit for others — search, not list: nothing in it is named to
 * anyone, and the sandbox's own processes never see the host's tree at all. The root directory and the platform
 * user's home are never changed: a data dir under /root is refused with the fix spelled out.
 */
async function makeReachable(
  dir: string,
  owner: SandboxUser,
  warn: (message: string) => void,
): Promise<void> {
  const home = os.userInfo().homedir;
  const chain: string[] = [];
  for (let current = dir; current !== path.dirname(current); current = path.dirname(current))
    chain.unshift(current);
  for (const current of chain) {
    const stat = await fs.stat(current);
    const searchable =
      (stat.mode & 0o001) !== 0 ||
      (stat.uid === owner.uid && (stat.mode & 0o100) !== 0) ||
      (stat.gid === owner.gid && (stat.mode & 0o010) !== 0);
    if (searchable) continue;
    const isHomeOrAbove = home !== "" && (current === home || !path.relative(current, home).startsWith(".."));
    if (isHomeOrAbove || stat.uid !== process.getuid?.()) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        `Local sandboxes run as uid ${owner.uid}, which cannot reach ${dir}: ${current} is not searchable by others. Put the data dir outside ${current}, or chmod o+x ${current}.`,
      );
    }
    await fs.chmod(current, (stat.mode & 0o7777) | 0o001);
    warn(
      `made ${current} searchable by others (o+x, not listable) so sandboxes (uid ${owner.uid}) reach their directories`,
    );
  }
}

/** A host path handed to the sandbox read-write (a libSQL branch directory) becomes its uid's; links not followed. */
async function chownTree(dir: string, owner: SandboxUser): Promise<void> {
  await fs.lchown(dir, owner.uid, owner.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else await fs.lchown(child, owner.uid, owner.gid);
  }
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
