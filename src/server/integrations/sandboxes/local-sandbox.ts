import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { asProcessEnv } from "@/server/process-env";
import { ProviderError } from "../provider-error";
import { cgroupPids, removeCgroups } from "./local-cgroups";
import { assertWebhookId, type EgressPolicy } from "./local-egress-proxy";
import { localSandboxError, stoppedError } from "./local-errors";
import { readSandboxFile, resolveSandboxDir, writeSandboxFiles } from "./local-files";
import { bwrapArgs, type SandboxUser, type SystemMount, sandboxEnv } from "./local-isolation";
import { type LocalSandboxMetadata, readMetadata, type SandboxDirs, writeMetadata } from "./local-metadata";
import {
  closeSandboxNetwork,
  egressPort,
  type NetworkTools,
  netnsPath,
  openDoor,
  openSandboxNetwork,
} from "./local-network";
import {
  killGroup,
  killPid,
  type SandboxProcess,
  type SpawnPlan,
  spawnSandboxProcess,
} from "./local-process";
import { markedPids } from "./local-sweep";
import { LogBuffer, TailText } from "./log-buffer";
import type { CommandResult, CommandSpec, DetachedCommand, LogChunk, SandboxHandle } from "./port";
import { assertValidEnv } from "./sandbox-paths";

/** What every sandbox of one adapter shares: resolved once when the adapter is first used. */
export type LocalRuntime = {
  root: string;
  searchPath: string;
  bwrap: string | undefined;
  prlimit: string | undefined;
  /** The host paths bubblewrap sandboxes see besides their own (read-only system directories). */
  system: SystemMount[];
  /** Platform paths that must stay out even if they sit inside a system path (see `bwrapArgs`). */
  hidePaths: string[];
  /** The host uid/gid sandbox processes run as (the platform is root); undefined: the platform's own. */
  owner: SandboxUser | undefined;
  memoryLimitMb: number | null;
  pidsLimit: number | null;
  keepFilesOnStop: boolean;
  /** Set when cgroups are unavailable and per-process rlimits stand in. */
  useRlimits?: boolean;
  reservedPorts: Set<number>;
  /** Each sandbox gets its own network namespace (root, bwrap and the tools present); undefined: the host's. */
  network?: { tools: NetworkTools; policy: EgressPolicy };
  warn: (message: string) => void;
};

/** Output kept per stream of an awaited command (the tail: where build errors are). */
const runOutputLimit = 8 * 1024 * 1024;
/** Longest delay setTimeout accepts; longer timeouts re-arm. */
const maxTimerDelay = 2 ** 31 - 1;

export class LocalSandbox implements SandboxHandle {
  readonly kind = "local" as const;
  readonly listenHost = "127.0.0.1";
  readonly id: string;
  readonly workdir: string;
  private readonly processes = new Set<SandboxProcess>();
  private readonly starting = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly dirs: SandboxDirs,
    private metadata: LocalSandboxMetadata,
    private readonly env: Record<string, string>,
    private readonly onStopped: () => void,
  ) {
    this.id = metadata.id;
    this.workdir = dirs.work;
  }

  async run(command: CommandSpec): Promise<CommandResult> {
    const stdout = new TailText(runOutputLimit);
    const stderr = new TailText(runOutputLimit);
    const proc = await this.start(command, (chunk) =>
      (chunk.stream === "stdout" ? stdout : stderr).append(chunk.data),
    );
    const { exitCode } = await proc.exited;
    return { exitCode, stdout: stdout.toString(), stderr: stderr.toString() };
  }

  async runDetached(command: CommandSpec): Promise<DetachedCommand> {
    const logs = new LogBuffer();
    const proc = await this.start(command, (chunk) => logs.push(chunk));
    void proc.exited.then(() => logs.close());
    return {
      id: `cmd_${randomBytes(8).toString("hex")}`,
      logs: () => logs.read(),
      wait: () => proc.exited,
      kill: () => proc.kill(2000),
    };
  }

  async writeFiles(files: Array<{ path: string; content: Buffer | string }>): Promise<void> {
    this.assertRunning();
    await writeSandboxFiles(this.workdir, files, this.runtime.owner);
  }

  async readFile(filePath: string): Promise<Buffer | null> {
    this.assertRunning();
    return readSandboxFile(this.workdir, filePath);
  }

  listenPort(port: number): number {
    const hostPort = this.metadata.ports[String(port)];
    if (hostPort === undefined) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        `Local sandbox ${this.id}: port ${port} was not declared when the sandbox was created.`,
      );
    }
    return hostPort;
  }

  url(port: number): string {
    return `http://127.0.0.1:${this.listenPort(port)}`;
  }

  /**
   * Where processes inside reach the platform: the door of the sandbox's egress proxy, which forwards the model
   * gateway and `/hooks/v1/sandboxes/<webhookId>` to `publicUrl`, and nothing else. undefined when the sandbox
   * shares the host's network.
   */
  async platformUrl(door: { publicUrl: string; webhookId: string }): Promise<string | undefined> {
    this.assertRunning();
    if (!this.metadata.network) return undefined;
    const target = new URL(door.publicUrl);
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      throw new ProviderError("local-sandbox", "invalid", "Local sandbox: the platform URL must be http(s).");
    }
    const opened = { target: target.href.replace(/\/+$/, ""), webhookId: assertWebhookId(door.webhookId) };
    this.metadata = { ...this.metadata, network: { ...this.metadata.network, door: opened } };
    await writeMetadata(this.dirs, this.metadata);
    openDoor(this.id, opened);
    return `http://127.0.0.1:${egressPort}`;
  }

  /** Opens (or re-opens after a platform restart) the sandbox's network namespace and its forwarders. */
  async openNetwork(): Promise<void> {
    const { network } = this.runtime;
    const owner = this.runtime.owner;
    if (!network || !owner || !this.metadata.network) return;
    await openSandboxNetwork(network.tools, network.policy, {
      id: this.id,
      dir: `${this.dirs.dir}/net`,
      owner,
      ports: Object.values(this.metadata.ports),
      tcp: this.metadata.network.tcp,
      door: this.metadata.network.door ?? { target: undefined, webhookId: undefined },
    });
  }

  async extend(ms: number): Promise<void> {
    this.assertRunning();
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        "Local sandbox: extend() needs a positive duration.",
      );
    }
    this.metadata = { ...this.metadata, expiresAt: this.metadata.expiresAt + ms };
    try {
      await writeMetadata(this.dirs, this.metadata);
    } catch (error) {
      throw localSandboxError(`extending sandbox ${this.id}`, error);
    }
    this.armTimer();
  }

  async isAlive(): Promise<boolean> {
    if (this.stopping || Date.now() >= this.metadata.expiresAt) return false;
    // Another platform process (or adapter instance) may have stopped it.
    const onDisk = await readMetadata(this.dirs);
    return onDisk !== undefined && onDisk.stoppedAt === null;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /** Stops the sandbox when it expires; `extend()` re-arms it. */
  armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    const delay = this.metadata.expiresAt - Date.now();
    const fire = () => {
      if (this.metadata.expiresAt > Date.now()) return this.armTimer();
      this.stop().catch((error: unknown) =>
        this.runtime.warn(`sandbox ${this.id} timed out but could not be stopped: ${String(error)}`),
      );
    };
    this.timer = setTimeout(fire, Math.max(0, Math.min(delay, maxTimerDelay)));
    // An idle platform (a CLI, a test) must be able to exit with sandboxes still scheduled.
    this.timer.unref();
  }

  /** Unpacks a gzipped tarball into the working directory, inside the sandbox's own isolation. */
  async unpackTarball(data: Buffer): Promise<void> {
    await assertSafeMembers(data, this.runtime.searchPath);
    const stderr = new TailText(64 * 1024);
    const proc = await this.start(
      { cmd: "tar", args: ["-xzf", "-", "--no-same-owner"] },
      (chunk) => stderr.append(chunk.data),
      data,
    );
    const { exitCode } = await proc.exited;
    if (exitCode !== 0) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        `Local sandbox: the source tarball could not be unpacked (tar exit ${exitCode}): ${stderr.toString().trim()}`,
      );
    }
  }

  private assertRunning(): void {
    if (this.stopping || Date.now() >= this.metadata.expiresAt) throw stoppedError(this.id);
  }

  private async start(
    command: CommandSpec,
    onOutput: (chunk: LogChunk) => void,
    stdin?: Buffer,
  ): Promise<SandboxProcess> {
    this.assertRunning();
    const starting = this.startNow(command, onOutput, stdin);
    this.starting.add(starting);
    try {
      return await starting;
    } finally {
      this.starting.delete(starting);
    }
  }

  private async startNow(
    command: CommandSpec,
    onOutput: (chunk: LogChunk) => void,
    stdin: Buffer | undefined,
  ): Promise<SandboxProcess> {
    if (!command.cmd) throw new ProviderError("local-sandbox", "invalid", "Local sandbox: command is empty.");
    assertValidEnv("local-sandbox", command.env);
    const cwd = await resolveSandboxDir(this.workdir, command.cwd);
    const plan = this.plan(command, cwd, stdin);
    const proc = await spawnSandboxProcess(plan, onOutput);
    this.processes.add(proc);
    void proc.exited.then(() => this.processes.delete(proc));
    return proc;
  }

  private plan(command: CommandSpec, cwd: string, stdin: Buffer | undefined): SpawnPlan {
    const { runtime, dirs, metadata } = this;
    const isolated = runtime.bwrap !== undefined;
    const netns = runtime.network && runtime.owner && metadata.network ? runtime.network : undefined;
    const env = sandboxEnv({
      id: this.id,
      dirs,
      searchPath: runtime.searchPath,
      isolated,
      proxyPort: netns ? egressPort : undefined,
      sandboxEnv: this.env,
      commandEnv: command.env,
    });
    const useCgroups = metadata.cgroups.length > 0;
    let file = command.cmd;
    let args = command.args ?? [];
    if (runtime.bwrap) {
      const layout = {
        dirs,
        system: runtime.system,
        hidePaths: [runtime.root, ...runtime.hidePaths],
        hostPaths: metadata.hostPaths,
        readOnlyPaths: metadata.readOnlyPaths,
        cwd,
        syncFds: { info: 3, block: useCgroups ? 4 : undefined },
      };
      args = [...bwrapArgs(layout), "--", file, ...args];
      file = runtime.bwrap;
    }
    if (!useCgroups && runtime.useRlimits && runtime.prlimit && runtime.memoryLimitMb !== null) {
      args = [`--data=${runtime.memoryLimitMb * 1024 * 1024}`, "--", file, ...args];
      file = runtime.prlimit;
    }
    let user = runtime.owner;
    if (netns && user) {
      // Entering the namespace needs root: nsenter (root) → setpriv (drops to the sandbox uid, no groups) → bwrap.
      // Each execs the next, so the pid the cgroups and bwrap's sync pipes know stays the same.
      const { nsenter, setpriv } = netns.tools;
      args = [
        `--net=${netnsPath(this.id)}`,
        "--",
        setpriv,
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        "--clear-groups",
        "--",
        file,
        ...args,
      ];
      file = nsenter;
      user = undefined;
    }
    return {
      file,
      args,
      cwd,
      env,
      stdin,
      bwrap: isolated ? { block: useCgroups } : undefined,
      cgroups: metadata.cgroups,
      user,
    };
  }

  private async stopNow(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.starting]);
    try {
      for (const proc of this.processes) killGroup(proc.pid, "SIGKILL");
      const survivors = await this.killEverything();
      await Promise.race([
        Promise.allSettled([...this.processes].map((p) => p.exited)),
        sleep(5000, undefined, { ref: false }),
      ]);
      const leftCgroups = await removeCgroups(this.metadata.cgroups);
      if (this.runtime.network) await closeSandboxNetwork(this.runtime.network.tools, this.id);
      if (survivors.length > 0 || leftCgroups.length > 0) {
        this.runtime.warn(
          `sandbox ${this.id}: processes ${survivors.join(", ") || "(none)"} and cgroups ${leftCgroups.join(", ") || "(none)"} survived stop()`,
        );
      }
      if (this.runtime.keepFilesOnStop) {
        this.metadata = { ...this.metadata, stoppedAt: Date.now() };
        await writeMetadata(this.dirs, this.metadata);
      } else {
        await fs.rm(this.dirs.dir, { recursive: true, force: true, maxRetries: 3 });
      }
    } catch (error) {
      // Let a later stop() try again rather than report a half-stopped sandbox as stopped.
      this.stopping = undefined;
      throw localSandboxError(`stopping sandbox ${this.id}`, error);
    }
    for (const port of Object.values(this.metadata.ports)) this.runtime.reservedPorts.delete(port);
    this.onStopped();
  }

  /**
   * Kills every process of the sandbox, including ones started by an earlier platform process or that left
   * their process group, until none is left (bounded); returns the pids that would not die.
   */
  private async killEverything(): Promise<number[]> {
    let pids: number[] = [];
    for (let round = 0; round < 50; round++) {
      const found = new Set([...(await cgroupPids(this.metadata.cgroups)), ...(await markedPids(this.id))]);
      pids = [...found];
      if (pids.length === 0) return [];
      for (const pid of pids) killPid(pid, "SIGKILL");
      await sleep(20);
    }
    return pids;
  }
}

/** Refuses tarballs whose members would land outside the working directory (absolute or `..` names). */
async function assertSafeMembers(data: Buffer, searchPath: string): Promise<void> {
  const listing = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn("tar", ["-tzf", "-"], {
        env: asProcessEnv({ PATH: searchPath, LANG: "C.UTF-8" }),
        stdio: ["pipe", "pipe", "pipe"],
        timeout: 120_000,
      });
      const stdout: Buffer[] = [];
      const stderr = new TailText(16 * 1024);
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.append(chunk.toString("utf8")));
      child.once("error", (error) => reject(localSandboxError("listing the source tarball", error)));
      child.once("close", (code) =>
        resolve({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: stderr.toString() }),
      );
      // A tar that exits early (not a gzip) closes stdin; the resulting EPIPE is reported through `code`.
      child.stdin.on("error", () => child.kill());
      child.stdin.end(data);
    },
  );
  if (listing.code !== 0) {
    throw new ProviderError(
      "local-sandbox",
      "invalid",
      `Local sandbox: the source is not a readable gzipped tarball: ${listing.stderr.trim().slice(0, 500)}`,
    );
  }
  for (const name of listing.stdout.split("\n")) {
    if (!name) continue;
    if (name.startsWith("/") || name.split("/").includes("..")) {
      throw new ProviderError(
        "local-sandbox",
        "invalid",
        `Local sandbox: the source tarball has a member outside the working directory (${JSON.stringify(name.slice(0, 200))}); refused.`,
      );
    }
  }
}
