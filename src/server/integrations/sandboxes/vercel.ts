import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { type Command, Sandbox, type Session, Snapshot } from "@vercel/sandbox";
import { asProcessEnv } from "@/server/process-env";
import { ProviderError } from "../provider-error";
import type {
  CommandResult,
  CommandSpec,
  CreateSandboxInput,
  DetachedCommand,
  LogChunk,
  Sandboxes,
  SandboxHandle,
  SandboxSnapshot,
  SandboxSource,
} from "./port";
import {
  assertValidCreateInput,
  assertValidEnv,
  toSandboxFilePath,
  toSandboxRelativePath,
} from "./sandbox-paths";
import { vercelSandboxError } from "./vercel-errors";

const execFileAsync = promisify(execFile);

/**
 * Vercel Sandbox through @vercel/sandbox (v3: named sandboxes; the handle's id is the name). Every call goes
 * through the current *session* rather than the Sandbox object: Sandbox methods silently start a new session
 * when the old one stopped, which for a non-persistent sandbox is an empty VM; a stopped sandbox must read as
 * stopped. Sandboxes are created non-persistent: Kiln rebuilds each revision's sandbox from git and keeps agent
 * sessions in blob storage. Explicit snapshots (`snapshot()`, then `source: {kind: "snapshot"}`) save a whole
 * sandbox to start others from; provisioning does not use them yet.
 *
 * The SDK has no base-URL option; `fetch` is its seam (tests point it at a local fake). It reads one thing from
 * the platform's environment by itself: VERCEL_SANDBOX_TELEMETRY_DISABLED / VERCEL_TELEMETRY_DISABLED turn off
 * the AI-agent detection it adds to its user-agent. That is process-wide; set it at boot if wanted.
 */
export type VercelSandboxesOptions = {
  token: string;
  teamId: string;
  projectId: string;
  fetch?: typeof globalThis.fetch;
  /** Legacy Vercel-managed runtime (the SDK then uses the v2 create endpoint). Mutually exclusive with image. */
  runtime?: "node22" | "node24" | "node26" | "python3.13";
  /** Image to start from; default the SDK's `vercel/sandbox/universal` (Node 24 + common tools). */
  image?: string;
  defaultVcpus?: number;
  /** Control calls (get, stop, file I/O, kill). Default 60 s. */
  requestTimeoutMs?: number;
  /** Creating a sandbox, which includes booting the VM. Default 180 s. */
  createTimeoutMs?: number;
  /** Awaited commands, wait() and log streams. Default 60 min. */
  commandTimeoutMs?: number;
  /** Largest source (gzipped tarball) uploaded at create. Default 512 MiB. */
  maxSourceBytes?: number;
  /** Taking a snapshot, which saves the VM's whole filesystem. Default 10 min. */
  snapshotTimeoutMs?: number;
};

type Context = {
  credentials: { token: string; teamId: string; projectId: string };
  fetch: typeof globalThis.fetch | undefined;
  requestTimeoutMs: number;
  commandTimeoutMs: number;
  secrets: string[];
};

const sourceArchive = ".kiln-source.tar.gz";
/** 128 + SIGKILL: what a command reports when the VM it ran in was stopped. */
const killedExitCode = 137;

export function createVercelSandboxes(options: VercelSandboxesOptions): Sandboxes {
  for (const key of ["token", "teamId", "projectId"] as const) {
    if (!options[key]) {
      throw new ProviderError("vercel", "invalid", `Vercel Sandbox: ${key} is not configured.`);
    }
  }
  if (options.runtime && options.image) {
    throw new ProviderError("vercel", "invalid", "Vercel Sandbox: set either runtime or image, not both.");
  }
  const context: Context = {
    credentials: { token: options.token, teamId: options.teamId, projectId: options.projectId },
    fetch: options.fetch,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 3_600_000,
    secrets: [options.token],
  };
  const createTimeoutMs = options.createTimeoutMs ?? 180_000;
  const maxSourceBytes = options.maxSourceBytes ?? 512 * 1024 * 1024;
  const snapshotTimeoutMs = options.snapshotTimeoutMs ?? 600_000;

  return {
    kind: "vercel",
    diesWithPlatform: false,

    async create(input: CreateSandboxInput): Promise<SandboxHandle> {
      assertValidCreateInput("vercel", input);
      if ((input.hostPaths?.length ?? 0) > 0 || (input.readOnlyPaths?.length ?? 0) > 0) {
        throw new ProviderError(
          "vercel",
          "unsupported",
          "Vercel Sandbox cannot mount host paths; use a network database branch with cloud sandboxes.",
        );
      }
      const vcpus = input.vcpus ?? options.defaultVcpus;
      const source = input.source;
      const common = {
        ...context.credentials,
        fetch: context.fetch,
        name: input.name,
        ports: input.ports,
        timeout: input.timeoutMs,
        resources: vcpus ? { vcpus } : undefined,
        env: input.env,
        persistent: false,
      };
      const sandbox = await call(context, "creating a sandbox", createTimeoutMs, (signal) =>
        source.kind === "snapshot"
          ? // A snapshot carries its image: the SDK refuses runtime or image next to a snapshot source.
            Sandbox.create({
              ...common,
              source: { type: "snapshot", snapshotId: checkedSnapshotId(source.snapshotId) },
              signal,
            })
          : Sandbox.create({
              ...common,
              ...(options.runtime
                ? { runtime: options.runtime }
                : options.image
                  ? { image: options.image }
                  : {}),
              signal,
            }),
      );
      const handle = new VercelSandbox(context, sandbox);
      try {
        await handle.loadSource(input.source, maxSourceBytes);
      } catch (error) {
        // A sandbox without its files is useless and costs money while it runs.
        await handle.stop().catch((stopError: unknown) => {
          throw vercelSandboxError(
            `stopping sandbox ${input.name} after its source failed to load (${String(error)})`,
            stopError,
            context.secrets,
          );
        });
        throw error;
      }
      return handle;
    },

    async get(id: string): Promise<SandboxHandle | null> {
      const sandbox = await findSandbox(context, id);
      if (!sandbox || !isRunning(sandbox.status)) return null;
      return new VercelSandbox(context, sandbox);
    },

    async snapshot(handle: SandboxHandle, snapshotOptions = {}): Promise<SandboxSnapshot> {
      if (!(handle instanceof VercelSandbox)) {
        throw new ProviderError(
          "vercel",
          "invalid",
          "Vercel Sandbox: snapshot() needs a sandbox created or reattached by this adapter.",
        );
      }
      const expirationMs = snapshotOptions.expirationMs;
      if (expirationMs !== undefined && (!Number.isInteger(expirationMs) || expirationMs < 0)) {
        throw new ProviderError(
          "vercel",
          "invalid",
          "Vercel Sandbox: a snapshot's expirationMs must be a whole number of milliseconds (0: never).",
        );
      }
      return handle.takeSnapshot(expirationMs, snapshotTimeoutMs);
    },

    async getSnapshot(snapshotId: string): Promise<SandboxSnapshot | null> {
      const found = await findSnapshot(context, checkedSnapshotId(snapshotId));
      if (found?.status !== "created") return null;
      const expiresAt = found.expiresAt;
      if (expiresAt && expiresAt.getTime() <= Date.now()) return null;
      return { snapshotId: found.snapshotId, ...(expiresAt ? { expiresAt } : {}) };
    },

    async deleteSnapshot(snapshotId: string): Promise<void> {
      const found = await findSnapshot(context, checkedSnapshotId(snapshotId));
      if (!found || found.status === "deleted") return;
      try {
        await call(context, `deleting snapshot ${snapshotId}`, context.requestTimeoutMs, (signal) =>
          found.delete({ signal }),
        );
      } catch (error) {
        // Deleted (or expired) between the lookup and the delete: the outcome the caller asked for.
        if (error instanceof ProviderError && error.kind === "not_found") return;
        throw error;
      }
    },
  };
}

/** Snapshot ids go into URL paths unencoded by the SDK: only the characters Vercel's ids use are accepted. */
function checkedSnapshotId(snapshotId: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(snapshotId)) {
    throw new ProviderError(
      "vercel",
      "invalid",
      `Vercel Sandbox: ${JSON.stringify(snapshotId.slice(0, 100))} is not a snapshot id.`,
    );
  }
  return snapshotId;
}

async function findSnapshot(context: Context, snapshotId: string): Promise<Snapshot | null> {
  try {
    return await call(context, `looking up snapshot ${snapshotId}`, context.requestTimeoutMs, (signal) =>
      Snapshot.get({ ...context.credentials, fetch: context.fetch, snapshotId, signal }),
    );
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "not_found") return null;
    throw error;
  }
}

function isRunning(status: string): boolean {
  return status === "running" || status === "pending";
}

async function findSandbox(context: Context, name: string): Promise<Sandbox | null> {
  try {
    return await call(context, `looking up sandbox ${name}`, context.requestTimeoutMs, (signal) =>
      Sandbox.get({ ...context.credentials, fetch: context.fetch, name, resume: false, signal }),
    );
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "not_found") return null;
    throw error;
  }
}

/** Runs one SDK call with a deadline and maps whatever it throws. */
async function call<T>(
  context: Context,
  action: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  try {
    return await work(AbortSignal.timeout(timeoutMs));
  } catch (error) {
    throw vercelSandboxError(action, error, context.secrets, timeoutMs);
  }
}

class VercelSandbox implements SandboxHandle {
  readonly kind = "vercel" as const;
  readonly listenHost = "0.0.0.0";
  readonly id: string;
  readonly workdir: string;
  private readonly session: Session;
  private stopped = false;

  constructor(
    private readonly context: Context,
    sandbox: Sandbox,
  ) {
    this.id = sandbox.name;
    this.session = sandbox.currentSession();
    this.workdir = this.session.cwd;
  }

  async run(command: CommandSpec): Promise<CommandResult> {
    const params = this.commandParams(command);
    const finished = await this.call("running a command", this.context.commandTimeoutMs, (signal) =>
      this.session.runCommand({ ...params, signal }),
    );
    // Output of an awaited command arrives on the same stream and is cached by the SDK: no further request.
    const [stdout, stderr] = await this.call(
      "reading a command's output",
      this.context.requestTimeoutMs,
      () => Promise.all([finished.stdout(), finished.stderr()]),
    );
    return { exitCode: finished.exitCode, stdout, stderr };
  }

  async runDetached(command: CommandSpec): Promise<DetachedCommand> {
    const params = this.commandParams(command);
    const started = await this.call("starting a command", this.context.requestTimeoutMs, (signal) =>
      this.session.runCommand({ ...params, detached: true, signal }),
    );
    return {
      id: started.cmdId,
      logs: () => this.logs(started),
      wait: async () => {
        try {
          const done = await this.call("waiting for a command", this.context.commandTimeoutMs, (signal) =>
            started.wait({ signal }),
          );
          return { exitCode: done.exitCode };
        } catch (error) {
          // The session stopped under the command (stop(), timeout): it was killed with the VM.
          if (error instanceof ProviderError && error.kind === "conflict")
            return { exitCode: killedExitCode };
          throw error;
        }
      },
      kill: () =>
        this.call("killing a command", this.context.requestTimeoutMs, (signal) =>
          started.kill("SIGTERM", { abortSignal: signal }),
        ),
    };
  }

  async writeFiles(files: Array<{ path: string; content: Buffer | string }>): Promise<void> {
    this.assertNotStopped();
    const entries = files.map((file) => ({
      path: path.posix.join(this.workdir, toSandboxFilePath("vercel", file.path)),
      content: typeof file.content === "string" ? Buffer.from(file.content) : file.content,
    }));
    if (entries.length === 0) return;
    await this.call("writing files", this.context.requestTimeoutMs, (signal) =>
      this.session.writeFiles(entries, { signal }),
    );
  }

  async readFile(filePath: string): Promise<Buffer | null> {
    this.assertNotStopped();
    const absolute = path.posix.join(this.workdir, toSandboxFilePath("vercel", filePath));
    return this.call(`reading ${JSON.stringify(filePath)}`, this.context.requestTimeoutMs, (signal) =>
      this.session.readFileToBuffer({ path: absolute }, { signal }),
    );
  }

  listenPort(port: number): number {
    this.domainOf(port);
    return port;
  }

  url(port: number): string {
    return this.domainOf(port);
  }

  async extend(ms: number): Promise<void> {
    this.assertNotStopped();
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new ProviderError("vercel", "invalid", "Vercel Sandbox: extend() needs a positive duration.");
    }
    await this.call("extending the sandbox timeout", this.context.requestTimeoutMs, (signal) =>
      this.session.extendTimeout(ms, { signal }),
    );
  }

  async isAlive(): Promise<boolean> {
    if (this.stopped) return false;
    const fresh = await findSandbox(this.context, this.id);
    if (!fresh) return false;
    // A different session is a new, empty VM: the one this handle worked in is gone.
    return fresh.currentSession().sessionId === this.session.sessionId && isRunning(fresh.status);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.call("stopping the sandbox", this.context.requestTimeoutMs, (signal) =>
        this.session.stop({ signal }),
      );
    } catch (error) {
      // Already stopped (410), stopping, or gone: the outcome the caller asked for.
      const done =
        error instanceof ProviderError && (error.kind === "conflict" || error.kind === "not_found");
      if (!done) throw error;
    }
    this.stopped = true;
  }

  /** Vercel stops the VM as part of taking the snapshot: the handle reads as stopped afterwards. */
  async takeSnapshot(expirationMs: number | undefined, timeoutMs: number): Promise<SandboxSnapshot> {
    this.assertNotStopped();
    const snapshot = await this.call("taking a snapshot", timeoutMs, (signal) =>
      this.session.snapshot({ expiration: expirationMs, signal }),
    );
    this.stopped = true;
    if (snapshot.status !== "created") {
      throw new ProviderError(
        "vercel",
        "unavailable",
        `Vercel Sandbox: the snapshot of sandbox ${this.id} ended as "${snapshot.status}"; build it again.`,
      );
    }
    const expiresAt = snapshot.expiresAt;
    return { snapshotId: snapshot.snapshotId, ...(expiresAt ? { expiresAt } : {}) };
  }

  async loadSource(source: SandboxSource, maxBytes: number): Promise<void> {
    if (source.kind === "empty" || source.kind === "snapshot") return;
    const archive = source.kind === "tarball" ? source.data : await tarDirectory(source.path, maxBytes);
    if (archive.length > maxBytes) {
      throw new ProviderError(
        "vercel",
        "invalid",
        `Vercel Sandbox: the source is ${archive.length} bytes gzipped, more than the ${maxBytes} allowed.`,
      );
    }
    await this.writeFiles([{ path: sourceArchive, content: archive }]);
    const unpacked = await this.run({
      cmd: "tar",
      args: ["-xzf", sourceArchive, "--no-same-owner"],
    });
    const removed = await this.run({ cmd: "rm", args: ["-f", sourceArchive] });
    if (unpacked.exitCode !== 0 || removed.exitCode !== 0) {
      throw new ProviderError(
        "vercel",
        "invalid",
        `Vercel Sandbox: the source could not be unpacked (tar exit ${unpacked.exitCode}): ${unpacked.stderr.trim().slice(0, 500)}`,
      );
    }
  }

  private commandParams(command: CommandSpec) {
    this.assertNotStopped();
    if (!command.cmd) throw new ProviderError("vercel", "invalid", "Vercel Sandbox: command is empty.");
    assertValidEnv("vercel", command.env);
    const cwd = toSandboxRelativePath("vercel", command.cwd ?? "", "working directory");
    return {
      cmd: command.cmd,
      args: command.args ?? [],
      cwd: path.posix.join(this.workdir, cwd),
      env: command.env ?? {},
    };
  }

  private async *logs(command: Command): AsyncGenerator<LogChunk> {
    const stream = command.logs({ signal: AbortSignal.timeout(this.context.commandTimeoutMs) });
    try {
      for await (const line of stream) {
        if (line.stream === "stdout" || line.stream === "stderr")
          yield { stream: line.stream, data: line.data };
      }
    } catch (error) {
      const mapped = vercelSandboxError("streaming a command's logs", error, this.context.secrets);
      // The VM stopped while streaming: its output ends there, as a killed process's does.
      if (mapped.kind === "conflict") return;
      throw mapped;
    } finally {
      stream.close();
    }
  }

  private domainOf(port: number): string {
    try {
      return this.session.domain(port);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("No route for port")) {
        throw new ProviderError(
          "vercel",
          "invalid",
          `Vercel Sandbox ${this.id}: port ${port} was not declared when the sandbox was created.`,
        );
      }
      throw vercelSandboxError(`resolving the URL of port ${port}`, error, this.context.secrets);
    }
  }

  private assertNotStopped(): void {
    if (this.stopped) {
      throw new ProviderError(
        "vercel",
        "conflict",
        `Vercel Sandbox ${this.id} has stopped; create a new sandbox.`,
      );
    }
  }

  private call<T>(action: string, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return call(this.context, `${action} in sandbox ${this.id}`, timeoutMs, work);
  }
}

/** A gzipped tarball of a host directory, made with the host's tar (no shell, fixed arguments). */
async function tarDirectory(directory: string, maxBytes: number): Promise<Buffer> {
  try {
    const { stdout } = await execFileAsync("tar", ["-czf", "-", "-C", directory, "."], {
      encoding: "buffer",
      maxBuffer: maxBytes,
      timeout: 600_000,
      env: asProcessEnv({ PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" }),
    });
    return stdout;
  } catch (error) {
    throw new ProviderError(
      "vercel",
      "invalid",
      `Vercel Sandbox: could not pack the source directory ${directory} (${error instanceof Error ? error.message.slice(0, 300) : String(error)}); check it exists and is under ${maxBytes} bytes gzipped.`,
      { cause: error },
    );
  }
}
