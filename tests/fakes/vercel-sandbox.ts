import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import os from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { z } from "zod";
import { asProcessEnv } from "../../src/server/process-env";
import {
  type FakeInterceptor,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  listenOnLoopback,
  type RecordedRequest,
  writeReply,
} from "./http";

/**
 * Vercel Sandbox API as @vercel/sandbox 3.x speaks it (read from the SDK's api-client and validators): Bearer
 * token + `?teamId=` on every call; `POST /v3/sandboxes` (or `/v2/sandboxes` when a legacy `runtime` is given)
 * answers `{sandbox, session, routes}`; `GET /v2/sandboxes/{name}`; per-session routes under
 * `/v2/sandboxes/sessions/{sessionId}`: `cmd` (awaited commands stream `application/x-ndjson`: the command, log
 * lines `{stream, data}`, then the command again with its exitCode), `cmd/{id}` (`?wait=true` long-polls),
 * `cmd/{id}/logs` (NDJSON from the start until exit), `cmd/{id}/kill`, `fs/write` (gzipped tar, `x-cwd` is the
 * extraction root), `fs/read` (octet-stream or 404), `extend-timeout`, `stop`. Errors are `{error: {code,
 * message}}`; a bad token is 403 with `invalidToken: true`; calls on a stopped session are 410.
 *
 * Snapshots: `POST /v2/sandboxes/sessions/{sessionId}/snapshot` (optional `{expiration}` in ms, 0 = never;
 * default 30 days, counted from the last use) stops the session and answers `{snapshot, session}`;
 * `GET|DELETE /v2/sandboxes/snapshots/{id}` answer `{snapshot}` (status `created | deleted | failed`; unknown ids
 * 404). Creating from `source: {type: "snapshot", snapshotId}` of an expired, deleted or unknown snapshot is
 * `410 snapshot_not_found`. Here a snapshot is a copy of the sandbox's whole VM root, copied back on create.
 *
 * Commands really run, as host processes in a per-sandbox temp directory that stands in for the VM's root
 * filesystem (so `/vercel/sandbox` is `<vmRoot>/vercel/sandbox`); declared ports are host ports, reachable via
 * `previewUrl()`. The first interceptor (faults) sees each request before auth, like the other fakes.
 */

export type FakeVercelSandboxOptions = {
  token: string;
  teamId: string;
  projectId: string;
  intercept?: FakeInterceptor;
  /** PATH of commands; default the standard directories plus this Node's. */
  path?: string;
};

export type FakeVercelSandbox = FakeServer & {
  /** A fetch for the SDK: sends `https://vercel.com/api/...` to this fake instead. */
  fetch: typeof globalThis.fetch;
  /** `https://<subdomain>.vercel.run/...` of a declared port → where the process really listens. */
  previewUrl(url: string): string;
  /** Session status by sandbox name, for assertions. */
  statusOf(name: string): string | undefined;
  /** Host pids of a sandbox's commands that are still running. */
  runningPids(name: string): number[];
  /** Ids of every snapshot ever taken, oldest first, with their current status. */
  snapshots(): Array<{ id: string; status: "created" | "deleted" | "failed" }>;
  /** Makes a snapshot expire now, as Vercel does after its retention period without use. */
  expireSnapshot(id: string): void;
};

type LogLine = { stream: "stdout" | "stderr"; data: string };

type FakeCommand = {
  id: string;
  name: string;
  args: string[];
  cwd: string;
  sessionId: string;
  startedAt: number;
  exitCode: number | null;
  durationMs?: number;
  logs: LogLine[];
  listeners: Set<() => void>;
  child: ChildProcess | undefined;
};

type FakeSession = {
  id: string;
  sandboxName: string;
  status: "running" | "stopped";
  createdAt: number;
  stoppedAt?: number;
  sourceSnapshotId?: string;
  snapshottedAt?: number;
  timeout: number;
  timer?: NodeJS.Timeout;
  commands: Map<string, FakeCommand>;
};

type FakeSandbox = {
  name: string;
  persistent: boolean;
  vcpus: number;
  runtime?: string;
  image?: string;
  timeout: number;
  createdAt: number;
  updatedAt: number;
  env: Record<string, string>;
  routes: Array<{ port: number; subdomain: string; url: string }>;
  session: FakeSession;
  vmRoot: string;
};

type FakeSnapshot = {
  id: string;
  sourceSessionId: string;
  status: "created" | "deleted" | "failed";
  sizeBytes: number;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number;
  /** 0: never expires. */
  expirationMs: number;
  /** A copy of the source VM's root filesystem. */
  dir: string;
};

const vmCwd = "/vercel/sandbox";
const defaultSnapshotExpirationMs = 30 * 24 * 3600_000;
const execFileAsync = promisify(execFile);

const createBodySchema = z.object({
  projectId: z.string(),
  name: z.string().optional(),
  ports: z.array(z.number().int()).optional(),
  timeout: z.number().int().positive().optional(),
  resources: z.object({ vcpus: z.number().int().positive() }).optional(),
  runtime: z.string().optional(),
  image: z.string().optional(),
  persistent: z.boolean().optional(),
  env: z.record(z.string(), z.string()).optional(),
  source: z.unknown().optional(),
});

const commandBodySchema = z.object({
  command: z.string().min(1),
  args: z.array(z.string()),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()),
  sudo: z.boolean(),
  wait: z.boolean().optional(),
  logs: z.boolean().optional(),
  timeout: z.number().optional(),
});

const readBodySchema = z.object({ path: z.string(), cwd: z.string().optional() });
const killBodySchema = z.object({ signal: z.number().int() });
const extendBodySchema = z.object({ duration: z.number().int().positive() });
const snapshotBodySchema = z.object({ expiration: z.number().int().nonnegative().optional() });
const snapshotSourceSchema = z.object({ type: z.literal("snapshot"), snapshotId: z.string().min(1) });

function vercelError(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return { status, json: { error: { code, message, ...extra } } } satisfies FakeReply;
}

function defaultPath(): string {
  return [path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

export async function startFakeVercelSandbox(options: FakeVercelSandboxOptions): Promise<FakeVercelSandbox> {
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-fake-vercel-sandbox-"));
  const commandPath = options.path ?? defaultPath();
  const sandboxes = new Map<string, FakeSandbox>();
  const sessions = new Map<string, FakeSandbox>();
  const snapshots = new Map<string, FakeSnapshot>();
  const requests: RecordedRequest[] = [];

  /** Expiry counts from the last use; an expired snapshot is gone, as if deleted. */
  const refreshExpiry = (snapshot: FakeSnapshot) => {
    if (snapshot.status !== "created" || snapshot.expirationMs === 0) return;
    if (Date.now() >= snapshot.lastUsedAt + snapshot.expirationMs) {
      snapshot.status = "deleted";
      snapshot.updatedAt = snapshot.lastUsedAt + snapshot.expirationMs;
      void fs.rm(snapshot.dir, { recursive: true, force: true });
    }
  };
  const snapshotJson = (snapshot: FakeSnapshot) => {
    refreshExpiry(snapshot);
    return {
      id: snapshot.id,
      sourceSessionId: snapshot.sourceSessionId,
      region: "iad1",
      regions: ["iad1"],
      status: snapshot.status,
      sizeBytes: snapshot.sizeBytes,
      ...(snapshot.expirationMs > 0 ? { expiresAt: snapshot.lastUsedAt + snapshot.expirationMs } : {}),
      createdAt: snapshot.createdAt,
      updatedAt: snapshot.updatedAt,
      lastUsedAt: snapshot.lastUsedAt,
      creationMethod: "manual",
    };
  };

  const sessionJson = (sandbox: FakeSandbox) => {
    const session = sandbox.session;
    return {
      id: session.id,
      memory: sandbox.vcpus * 2048,
      vcpus: sandbox.vcpus,
      region: "iad1",
      ...(sandbox.runtime ? { runtime: sandbox.runtime } : {}),
      timeout: session.timeout,
      status: session.status,
      requestedAt: session.createdAt,
      startedAt: session.createdAt,
      createdAt: session.createdAt,
      cwd: vmCwd,
      updatedAt: session.stoppedAt ?? session.createdAt,
      ...(session.stoppedAt ? { stoppedAt: session.stoppedAt, requestedStopAt: session.stoppedAt } : {}),
      ...(session.sourceSnapshotId ? { sourceSnapshotId: session.sourceSnapshotId } : {}),
      ...(session.snapshottedAt ? { snapshottedAt: session.snapshottedAt } : {}),
    };
  };
  const sandboxJson = (sandbox: FakeSandbox) => ({
    name: sandbox.name,
    persistent: sandbox.persistent,
    region: "iad1",
    vcpus: sandbox.vcpus,
    memory: sandbox.vcpus * 2048,
    ...(sandbox.runtime ? { runtime: sandbox.runtime } : {}),
    ...(sandbox.image ? { image: sandbox.image } : {}),
    timeout: sandbox.timeout,
    createdAt: sandbox.createdAt,
    updatedAt: sandbox.updatedAt,
    currentSessionId: sandbox.session.id,
    status: sandbox.session.status,
    cwd: vmCwd,
    expiresAt: sandbox.session.createdAt + sandbox.session.timeout,
  });
  const fullJson = (sandbox: FakeSandbox) => ({
    sandbox: sandboxJson(sandbox),
    session: sessionJson(sandbox),
    routes: sandbox.routes,
  });
  const commandJson = (command: FakeCommand) => ({
    id: command.id,
    name: command.name,
    args: command.args,
    cwd: command.cwd,
    sessionId: command.sessionId,
    exitCode: command.exitCode,
    ...(command.durationMs !== undefined ? { durationMs: command.durationMs } : {}),
    startedAt: command.startedAt,
  });

  /** A VM path (absolute, or relative to `cwd`) as a host path inside the sandbox's root; undefined if outside. */
  const hostPath = (sandbox: FakeSandbox, vmPath: string, cwd = vmCwd) => {
    const absolute = path.posix.resolve(cwd, vmPath);
    const host = path.join(sandbox.vmRoot, absolute);
    return host.startsWith(sandbox.vmRoot) ? host : undefined;
  };

  const stopSession = (sandbox: FakeSandbox) => {
    const session = sandbox.session;
    if (session.status === "stopped") return;
    session.status = "stopped";
    session.stoppedAt = Date.now();
    sandbox.updatedAt = session.stoppedAt;
    if (session.timer) clearTimeout(session.timer);
    for (const command of session.commands.values()) killCommand(command, "SIGKILL");
  };

  const armTimeout = (sandbox: FakeSandbox) => {
    const session = sandbox.session;
    if (session.timer) clearTimeout(session.timer);
    const delay = session.createdAt + session.timeout - Date.now();
    session.timer = setTimeout(() => stopSession(sandbox), Math.max(0, delay));
    session.timer.unref();
  };

  const startCommand = (sandbox: FakeSandbox, body: z.infer<typeof commandBodySchema>) => {
    const cwd = body.cwd ?? vmCwd;
    const command: FakeCommand = {
      id: `cmd_${randomBytes(10).toString("hex")}`,
      name: body.command,
      args: body.args,
      cwd,
      sessionId: sandbox.session.id,
      startedAt: Date.now(),
      exitCode: null,
      logs: [],
      listeners: new Set(),
      child: undefined,
    };
    sandbox.session.commands.set(command.id, command);
    const notify = () => {
      for (const listener of command.listeners) listener();
    };
    const finish = (exitCode: number) => {
      command.exitCode = exitCode;
      command.durationMs = Date.now() - command.startedAt;
      notify();
    };
    const hostCwd = hostPath(sandbox, cwd);
    const child = spawn(body.command, body.args, {
      cwd: hostCwd,
      env: asProcessEnv({
        PATH: commandPath,
        HOME: path.join(sandbox.vmRoot, "home", "vercel-sandbox"),
        ...sandbox.env,
        ...body.env,
      }),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    command.child = child;
    const pump = (stream: NodeJS.ReadableStream, name: LogLine["stream"]) => {
      const decoder = new StringDecoder("utf8");
      stream.on("data", (data: Buffer) => {
        const text = decoder.write(data);
        if (!text) return;
        command.logs.push({ stream: name, data: text });
        notify();
      });
    };
    pump(child.stdout, "stdout");
    pump(child.stderr, "stderr");
    child.once("error", (error) => {
      const code = errnoOf(error);
      command.logs.push({ stream: "stderr", data: `${body.command}: ${code ?? error.message}\n` });
      finish(code === "ENOENT" ? 127 : 126);
    });
    child.once("close", (code, signal) => {
      if (command.exitCode !== null) return;
      finish(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
    return command;
  };

  const killCommand = (command: FakeCommand, signal: NodeJS.Signals | number) => {
    const pid = command.child?.pid;
    if (command.exitCode !== null || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if (errnoOf(error) !== "ESRCH") throw error;
    }
  };

  /** Streams a command's log lines (from the start) as NDJSON, then `after()`'s line, until it exits. */
  const streamCommand = (
    res: ServerResponse,
    command: FakeCommand,
    before: unknown | undefined,
    after: (() => unknown) | undefined,
  ) => {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    if (before !== undefined) res.write(`${JSON.stringify(before)}\n`);
    let sent = 0;
    const flush = () => {
      while (sent < command.logs.length) res.write(`${JSON.stringify(command.logs[sent++])}\n`);
      if (command.exitCode !== null) {
        command.listeners.delete(flush);
        if (after) res.write(`${JSON.stringify(after())}\n`);
        res.end();
      }
    };
    command.listeners.add(flush);
    res.once("close", () => command.listeners.delete(flush));
    flush();
  };

  const waitForExit = (command: FakeCommand) =>
    new Promise<void>((resolve) => {
      if (command.exitCode !== null) return resolve();
      const listener = () => {
        if (command.exitCode === null) return;
        command.listeners.delete(listener);
        resolve();
      };
      command.listeners.add(listener);
    });

  const extract = (directory: string, archive: Buffer) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const tar = spawn("tar", ["-xzf", "-", "-C", directory, "--no-same-owner"], {
        env: asProcessEnv({ PATH: commandPath }),
        stdio: ["pipe", "ignore", "pipe"],
      });
      let stderr = "";
      tar.stderr.on("data", (data: Buffer) => {
        stderr += data.toString("utf8");
      });
      tar.stdin.on("error", () => undefined);
      tar.once("close", (code) => resolve({ code, stderr }));
      tar.stdin.end(archive);
    });

  type Handled = FakeReply | "streamed";

  const handleSession = async (
    sandbox: FakeSandbox,
    rest: string,
    method: string,
    body: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<Handled> => {
    const session = sandbox.session;
    const commandMatch = /^cmd\/([^/]+)(\/logs|\/kill)?$/.exec(rest);
    if (commandMatch?.[1]) {
      const command = session.commands.get(commandMatch[1]);
      if (!command) return vercelError(404, "not_found", "Command not found");
      if (method === "GET" && commandMatch[2] === "/logs") {
        streamCommand(res, command, undefined, undefined);
        return "streamed";
      }
      if (method === "GET" && !commandMatch[2]) {
        if (url.searchParams.get("wait") === "true") await waitForExit(command);
        return { status: 200, json: { command: commandJson(command) } };
      }
      if (method === "POST" && commandMatch[2] === "/kill") {
        if (session.status === "stopped") return stoppedReply();
        const parsed = killBodySchema.safeParse(parseJson(body));
        if (!parsed.success) return vercelError(400, "bad_request", "Invalid kill request");
        killCommand(command, parsed.data.signal);
        return { status: 200, json: { command: commandJson(command) } };
      }
    }
    if (session.status === "stopped") return stoppedReply();
    if (method === "POST" && rest === "cmd") {
      const parsed = commandBodySchema.safeParse(parseJson(body));
      if (!parsed.success) return vercelError(400, "bad_request", `Invalid command: ${parsed.error.message}`);
      if (parsed.data.cwd !== undefined && !hostPath(sandbox, parsed.data.cwd)) {
        return vercelError(400, "bad_request", "Invalid cwd");
      }
      const command = startCommand(sandbox, parsed.data);
      if (!parsed.data.wait) return { status: 200, json: { command: commandJson(command) } };
      streamCommand(res, command, { command: commandJson(command) }, () => ({
        command: commandJson(command),
      }));
      return "streamed";
    }
    if (method === "POST" && rest === "fs/write") {
      if (req.headers["content-type"] !== "application/gzip") {
        return vercelError(400, "bad_request", "Expected application/gzip");
      }
      const target = hostPath(sandbox, String(req.headers["x-cwd"] ?? "/"), "/");
      if (!target) return vercelError(400, "bad_request", "Invalid x-cwd");
      await fs.mkdir(target, { recursive: true });
      const result = await extract(target, body);
      if (result.code !== 0)
        return vercelError(400, "bad_request", `Could not extract files: ${result.stderr}`);
      return { status: 200, json: {} };
    }
    if (method === "POST" && rest === "fs/read") {
      const parsed = readBodySchema.safeParse(parseJson(body));
      if (!parsed.success) return vercelError(400, "bad_request", "Invalid read request");
      const file = hostPath(sandbox, parsed.data.path, parsed.data.cwd ?? vmCwd);
      const stat = file ? await statIfExists(file) : undefined;
      if (!file || !stat?.isFile()) return vercelError(404, "file_not_found", "File not found");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(await fs.readFile(file));
      return "streamed";
    }
    if (method === "POST" && rest === "extend-timeout") {
      const parsed = extendBodySchema.safeParse(parseJson(body));
      if (!parsed.success) return vercelError(400, "bad_request", "Invalid duration");
      session.timeout += parsed.data.duration;
      armTimeout(sandbox);
      return { status: 200, json: { session: sessionJson(sandbox) } };
    }
    if (method === "POST" && rest === "stop") {
      stopSession(sandbox);
      return { status: 200, json: { session: sessionJson(sandbox), sandbox: sandboxJson(sandbox) } };
    }
    if (method === "POST" && rest === "snapshot") {
      const parsed = snapshotBodySchema.safeParse(body.length === 0 ? {} : parseJson(body));
      if (!parsed.success) return vercelError(400, "bad_request", "Invalid expiration");
      // The VM stops first (its processes end), then its filesystem is saved.
      stopSession(sandbox);
      session.snapshottedAt = Date.now();
      const snapshot = await takeSnapshot(sandbox, parsed.data.expiration ?? defaultSnapshotExpirationMs);
      return { status: 200, json: { snapshot: snapshotJson(snapshot), session: sessionJson(sandbox) } };
    }
    return vercelError(404, "not_found", "The requested path was not found");
  };

  const stoppedReply = () => vercelError(410, "sandbox_stopped", "The sandbox session has stopped");

  const takeSnapshot = async (sandbox: FakeSandbox, expirationMs: number): Promise<FakeSnapshot> => {
    const id = `snap_${randomBytes(12).toString("hex")}`;
    const dir = path.join(baseDir, id);
    await fs.mkdir(dir);
    // cp -a keeps symlinks (node_modules/.bin) as they are, modes and all.
    await execFileAsync("cp", ["-a", "--", `${sandbox.vmRoot}/.`, dir]);
    const { stdout } = await execFileAsync("du", ["-sb", dir]);
    const now = Date.now();
    const snapshot: FakeSnapshot = {
      id,
      sourceSessionId: sandbox.session.id,
      status: "created",
      sizeBytes: Number(stdout.split("\t")[0]) || 0,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: now,
      expirationMs,
      dir,
    };
    snapshots.set(id, snapshot);
    return snapshot;
  };

  const handleSnapshot = async (method: string, id: string): Promise<FakeReply> => {
    const snapshot = snapshots.get(id);
    if (!snapshot) return vercelError(404, "not_found", "Snapshot not found");
    if (method === "GET") return { status: 200, json: { snapshot: snapshotJson(snapshot) } };
    if (method === "DELETE") {
      refreshExpiry(snapshot);
      if (snapshot.status !== "deleted") {
        snapshot.status = "deleted";
        snapshot.updatedAt = Date.now();
        await fs.rm(snapshot.dir, { recursive: true, force: true });
      }
      return { status: 200, json: { snapshot: snapshotJson(snapshot) } };
    }
    return vercelError(405, "method_not_allowed", "Method not allowed");
  };

  /** The snapshot a create starts from, or the vendor's refusal. */
  const snapshotSource = (source: unknown): FakeSnapshot | FakeReply => {
    const parsed = snapshotSourceSchema.safeParse(source);
    if (!parsed.success) return vercelError(400, "bad_request", "This fake supports only snapshot sources");
    const snapshot = snapshots.get(parsed.data.snapshotId);
    if (snapshot) refreshExpiry(snapshot);
    if (snapshot?.status !== "created") {
      return vercelError(410, "snapshot_not_found", "The snapshot is expired, deleted or does not exist");
    }
    return snapshot;
  };

  const createSandbox = async (body: Buffer, legacy: boolean): Promise<FakeReply> => {
    const parsed = createBodySchema.safeParse(parseJson(body));
    if (!parsed.success) return vercelError(400, "bad_request", `Invalid request: ${parsed.error.message}`);
    const input = parsed.data;
    if (input.projectId !== options.projectId) return vercelError(404, "not_found", "Project not found");
    if (legacy && !input.runtime) return vercelError(400, "bad_request", "runtime is required");
    let from: FakeSnapshot | undefined;
    if (input.source !== undefined) {
      if (input.runtime || input.image) {
        return vercelError(400, "bad_request", "A snapshot source cannot be combined with runtime or image");
      }
      const found = snapshotSource(input.source);
      if (!("dir" in found)) return found;
      from = found;
    }
    const name = input.name ?? `sbx-${randomBytes(6).toString("hex")}`;
    if (sandboxes.has(name))
      return vercelError(409, "sandbox_exists", `A sandbox named ${name} already exists`);
    const now = Date.now();
    const vmRoot = await fs.mkdtemp(path.join(baseDir, "vm-"));
    if (from) {
      await execFileAsync("cp", ["-a", "--", `${from.dir}/.`, vmRoot]);
      from.lastUsedAt = now;
    }
    await fs.mkdir(path.join(vmRoot, vmCwd), { recursive: true });
    await fs.mkdir(path.join(vmRoot, "tmp"), { recursive: true });
    await fs.mkdir(path.join(vmRoot, "home", "vercel-sandbox"), { recursive: true });
    const timeout = input.timeout ?? 300_000;
    const sandbox: FakeSandbox = {
      name,
      persistent: input.persistent ?? true,
      vcpus: input.resources?.vcpus ?? 2,
      runtime: input.runtime,
      image: input.image,
      timeout,
      createdAt: now,
      updatedAt: now,
      env: input.env ?? {},
      routes: (input.ports ?? []).map((port) => {
        const subdomain = `sb-${randomBytes(8).toString("hex")}`;
        return { port, subdomain, url: `https://${subdomain}.vercel.run` };
      }),
      session: {
        id: `sbx_${randomBytes(12).toString("hex")}`,
        sandboxName: name,
        status: "running",
        createdAt: now,
        timeout,
        commands: new Map(),
        ...(from ? { sourceSnapshotId: from.id } : {}),
      },
      vmRoot,
    };
    sandboxes.set(name, sandbox);
    sessions.set(sandbox.session.id, sandbox);
    armTimeout(sandbox);
    return { status: 200, json: fullJson(sandbox) };
  };

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
  ): Promise<Handled> => {
    const method = req.method ?? "GET";
    const pathname = url.pathname;
    if (method === "POST" && pathname === "/v3/sandboxes") return createSandbox(body, false);
    if (method === "POST" && pathname === "/v2/sandboxes") return createSandbox(body, true);
    const snapshotMatch = /^\/v2\/sandboxes\/snapshots\/([^/]+)$/.exec(pathname);
    if (snapshotMatch?.[1]) return handleSnapshot(method, decodeURIComponent(snapshotMatch[1]));
    const sessionMatch = /^\/v2\/sandboxes\/sessions\/([^/]+)\/(.+)$/.exec(pathname);
    if (sessionMatch?.[1] && sessionMatch[2]) {
      const sandbox = sessions.get(sessionMatch[1]);
      if (!sandbox) return vercelError(404, "not_found", "Session not found");
      return handleSession(sandbox, sessionMatch[2], method, body, req, res, url);
    }
    const nameMatch = /^\/v2\/sandboxes\/([^/]+)$/.exec(pathname);
    if (method === "GET" && nameMatch?.[1]) {
      if (url.searchParams.get("projectId") !== options.projectId) {
        return vercelError(404, "not_found", "Project not found");
      }
      const sandbox = sandboxes.get(decodeURIComponent(nameMatch[1]));
      if (!sandbox) return vercelError(404, "not_found", "Sandbox not found");
      return { status: 200, json: fullJson(sandbox) };
    }
    return vercelError(404, "not_found", "The requested path was not found");
  };

  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const body = Buffer.concat(chunks);
      const isBinary = req.headers["content-type"] === "application/gzip";
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: isBinary ? `<${body.length} bytes of gzip>` : body.toString("utf8"),
      };
      requests.push(recorded);
      const url = new URL(recorded.path, "http://fake.local");
      const request: FakeRequest = {
        ...recorded,
        url,
        params: {},
        header(name) {
          const value = req.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(", ") : value;
        },
      };
      const reply =
        (await options.intercept?.(request)) ??
        (await authorize(request)) ??
        (await route(req, res, url, body));
      if (reply === "streamed") return;
      writeReply(req, res, reply);
    })().catch((error: unknown) => {
      console.error("fake Vercel Sandbox handler failed", error);
      if (!res.headersSent) res.writeHead(599, { "content-type": "text/plain" });
      res.end(`fake server handler failed: ${String(error)}`);
    });
  });

  const authorize = (request: FakeRequest): FakeReply | undefined => {
    const authorization = request.header("authorization");
    if (!authorization) {
      return vercelError(403, "forbidden", "The request is missing an authentication token", {
        missingToken: true,
      });
    }
    if (/^Bearer\s+(\S+)$/i.exec(authorization)?.[1] !== options.token) {
      return vercelError(403, "forbidden", "Not authorized", { invalidToken: true });
    }
    if (request.url.searchParams.get("teamId") !== options.teamId) {
      return vercelError(403, "forbidden", "You don't have permission to access this team");
    }
    return undefined;
  };

  const listening = await listenOnLoopback(server);
  const url = listening.url;

  const fakeFetch: typeof globalThis.fetch = (input, init) => {
    const original = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const parsed = new URL(original);
    if (parsed.origin !== "https://vercel.com" || !parsed.pathname.startsWith("/api/")) {
      throw new Error(`the SDK called an unexpected URL: ${original}`);
    }
    return globalThis.fetch(`${url}${parsed.pathname.slice("/api".length)}${parsed.search}`, init);
  };

  let closed: Promise<void> | undefined;
  return {
    url,
    requests,
    fetch: fakeFetch,
    previewUrl(preview) {
      const parsed = new URL(preview);
      const subdomain = parsed.hostname.replace(/\.vercel\.run$/, "");
      for (const sandbox of sandboxes.values()) {
        const match = sandbox.routes.find((candidate) => candidate.subdomain === subdomain);
        if (match) return `http://127.0.0.1:${match.port}${parsed.pathname}${parsed.search}`;
      }
      throw new Error(`no sandbox route for ${preview}`);
    },
    statusOf(name) {
      return sandboxes.get(name)?.session.status;
    },
    runningPids(name) {
      const sandbox = sandboxes.get(name);
      if (!sandbox) return [];
      return [...sandbox.session.commands.values()]
        .filter((command) => command.exitCode === null && command.child?.pid !== undefined)
        .map((command) => command.child?.pid ?? -1);
    },
    snapshots() {
      return [...snapshots.values()].map((snapshot) => {
        refreshExpiry(snapshot);
        return { id: snapshot.id, status: snapshot.status };
      });
    },
    expireSnapshot(id) {
      const snapshot = snapshots.get(id);
      if (!snapshot) throw new Error(`no snapshot ${id}`);
      snapshot.expirationMs = 1;
      snapshot.lastUsedAt = Date.now() - 1000;
      refreshExpiry(snapshot);
    },
    close() {
      closed ??= (async () => {
        for (const sandbox of sandboxes.values()) stopSession(sandbox);
        await listening.close();
        await fs.rm(baseDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8") || "{}");
  } catch (error) {
    // Not JSON: the schema check that follows answers 400, as the vendor would.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

async function statIfExists(file: string) {
  try {
    return await fs.stat(file);
  } catch (error) {
    if (errnoOf(error) === "ENOENT" || errnoOf(error) === "ENOTDIR") return undefined;
    throw error;
  }
}
