/**
 * Sandboxes: an isolated place to run the coding agent, migrations, builds and the preview. Nothing secret goes in:
 * `env` holds only what the caller decides the sandbox may see (a run token, a webhook URL, a branch's DATABASE_URL).
 */

export type SandboxesKind = "vercel" | "local";

export type SandboxSource =
  /** Start empty. */
  | { kind: "empty" }
  /** A directory on the platform host whose files are copied in (hard links / copy-on-write where possible). */
  | { kind: "directory"; path: string }
  /** A gzipped tarball of files to unpack into the working directory. */
  | { kind: "tarball"; data: Buffer }
  /**
   * A provider snapshot of a whole sandbox (see `Sandboxes.snapshot`). Only adapters with that capability accept
   * it; the others answer ProviderError "unsupported" (local sandboxes start warm from a host directory instead).
   */
  | { kind: "snapshot"; snapshotId: string };

export type CreateSandboxInput = {
  /** Readable name, unique per platform (used as the Vercel sandbox name). */
  name: string;
  source: SandboxSource;
  /** Ports the sandbox's processes will listen on (see `SandboxHandle.listenPort`). */
  ports: number[];
  env: Record<string, string>;
  /** Stops itself after this long unless extended. */
  timeoutMs: number;
  vcpus?: number;
  /** Local only: host paths (e.g. a libSQL branch directory) bound read-write at the same path. */
  hostPaths?: string[];
  /** Local only: host paths (e.g. the agent toolchain cache) visible read-only at the same path, even if hidden. */
  readOnlyPaths?: string[];
  /** Local only: host TCP endpoints (a MySQL branch's server) reachable inside at the same address. */
  tcpEndpoints?: Array<{ host: string; port: number }>;
};

export type CommandSpec = {
  cmd: string;
  /** Arguments are passed as an array, never through a shell. */
  args?: string[];
  /** Relative to the working directory. */
  cwd?: string;
  env?: Record<string, string>;
};

export type CommandResult = { exitCode: number; stdout: string; stderr: string };

export type LogChunk = { stream: "stdout" | "stderr"; data: string };

export interface DetachedCommand {
  readonly id: string;
  /** Every chunk from the start, then live ones, until the command exits. */
  logs(): AsyncIterable<LogChunk>;
  wait(): Promise<{ exitCode: number }>;
  kill(): Promise<void>;
}

export interface SandboxHandle {
  readonly id: string;
  readonly kind: SandboxesKind;
  /** Absolute path of the working directory inside the sandbox. */
  readonly workdir: string;
  run(command: CommandSpec): Promise<CommandResult>;
  runDetached(command: CommandSpec): Promise<DetachedCommand>;
  /** Paths relative to the working directory; writing outside it is refused. */
  writeFiles(files: Array<{ path: string; content: Buffer | string }>): Promise<void>;
  /** null when the file does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** The port a process must bind to serve declared port `port` (local sandboxes remap; Vercel does not). */
  listenPort(port: number): number;
  /**
   * The address a serving process binds (a preview, a deployment): loopback in a local sandbox, which Kiln's front
   * reaches on this host; every interface in a Vercel sandbox, whose router reaches it from outside.
   */
  readonly listenHost: string;
  /** Where the platform (and a browser) reaches declared port `port`. */
  url(port: number): string;
  /**
   * Optional: the base URL processes inside use for the platform's gateway and for the webhook
   * `/hooks/v1/sandboxes/<webhookId>` (a local sandbox's door to `publicUrl`, passing only those);
   * undefined: they use `publicUrl` itself.
   */
  platformUrl?(door: { publicUrl: string; webhookId: string }): Promise<string | undefined>;
  extend(ms: number): Promise<void>;
  isAlive(): Promise<boolean>;
  /** Idempotent. Leaves no process behind. */
  stop(): Promise<void>;
}

export type SandboxSnapshot = {
  snapshotId: string;
  /** When the provider will drop it unless used again; undefined when it does not expire. */
  expiresAt?: Date;
};

export interface Sandboxes {
  readonly kind: SandboxesKind;
  /**
   * Its sandboxes end when the app server that made them ends (a local process tree), so a revision running in one
   * is carried on elsewhere once that server is gone (docs/pipeline.md "Durability"). Cloud sandboxes outlive it.
   */
  readonly diesWithPlatform: boolean;
  create(input: CreateSandboxInput): Promise<SandboxHandle>;
  /** Reattaches to a sandbox by id (after a platform restart); null when it no longer exists. */
  get(id: string): Promise<SandboxHandle | null>;
  /**
   * Optional capability: saves the whole sandbox (working copy, home, installed tools) as a snapshot that
   * `create({source: {kind: "snapshot"}})` starts from. The sandbox STOPS as part of it (Vercel's behaviour).
   */
  snapshot?(handle: SandboxHandle, options?: { expirationMs?: number }): Promise<SandboxSnapshot>;
  /** Optional capability: the snapshot if it can still be started from; null when expired, deleted or unknown. */
  getSnapshot?(snapshotId: string): Promise<SandboxSnapshot | null>;
  /** Optional capability: deletes a snapshot. Idempotent: an unknown or already deleted one is fine. */
  deleteSnapshot?(snapshotId: string): Promise<void>;
}
