import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createConnection } from "mysql2/promise";
import { z } from "zod";
import { discardDevOutput } from "../../scripts/lib/fresh-dev-output";
import { E2E_MODEL_KEY } from "./env";
import { createToken } from "./operators";

// Kiln servers of a test's own, started from the production build (`.next`) the way `npm start` starts one
// (scripts/start.ts: secret key, migrations, first operator, then `next start` behind Kiln's front), each in a
// process group of its own so a test can SIGKILL one whole, as a machine dies; plus a scripted model of their own
// (tests/e2e/scripted-model.ts) whose calls a test counts. Every server of a cluster shares one data dir, one
// secret key and one control-plane database (MySQL: a database of its own on KILN_TEST_MYSQL_URL's server;
// otherwise the embedded libSQL file in the data dir), as app servers behind a load balancer would. Used by
// tests/e2e/durability.spec.ts and scripts/bench/recovery.bench.ts; it never touches the e2e legs' own server,
// ports, data dirs or databases.

export type KilnClusterOptions = {
  /** The data dir is os.tmpdir()/kiln-e2e/<name> (outside the checkout: the sandbox uid must walk down to it). */
  name: string;
  /** MySQL: the server (KILN_TEST_MYSQL_URL) and the database of the cluster's own, dropped and recreated. */
  mysql?: { serverUrl: string; database: string };
  /** One server per port, each with its own KILN_PUBLIC_URL (a sandbox reaches the server that started it). */
  ports: number[];
  /** The scripted model's API port; its control port is the next one. */
  modelPort: number;
};

const READY_MS = 180_000;
/** `next dev` compiles /login on its first request: on a busy 2-core box that alone can take a minute or two. */
const DEV_READY_MS = 300_000;
const ADMIN = { email: "durability@kiln.test", password: "durability-password-1234" };

/**
 * Process groups this process started and has not seen end. They are detached (so a test can kill one whole), so
 * nothing else ends them: when this process exits (a test runner tearing a timed-out worker down included), they
 * are SIGKILLed with it, never left holding the cluster's ports.
 */
const groups = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of groups) signalGroup(child, "SIGKILL");
});

/** A child in a process group of its own, its output appended to `logFile`. */
function spawnGroup(args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, "a", 0o600);
  try {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      detached: true,
      stdio: ["ignore", log, log],
      env,
    });
    groups.add(child);
    child.once("exit", (code, signal) => {
      groups.delete(child);
      // Whoever reads the log after a failure sees when and how the server ended (a crash, or a signal).
      fs.appendFileSync(
        logFile,
        `\n===== ${new Date().toISOString()} exited (${signal ? `signal ${signal}` : `code ${code}`}) =====\n`,
      );
    });
    return child;
  } finally {
    fs.closeSync(log);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Signals the child's whole process group (Kiln's front and `next start` under it). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone.
    if (!(error instanceof Error && "code" in error && error.code === "ESRCH")) throw error;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** GET that answers false instead of throwing while nothing listens yet. */
async function answersOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.ok;
  } catch (error) {
    if (error instanceof TypeError || (error instanceof DOMException && error.name === "TimeoutError"))
      return false;
    throw error;
  }
}

/** How a KilnServer is started: as the durability tests do unless told otherwise. */
export type KilnLaunch = {
  /** scripts/start.ts (`npm start`, from the production build; the default) or scripts/dev.ts (`npm run dev`). */
  script: "start" | "dev";
  /** How it learns its port: `-p N` (the default) or `PORT=N`. */
  portFrom: "flag" | "env";
  /** `-H` (default 127.0.0.1); null: none, so it listens on every interface as a plain `npm run dev` does. */
  hostname: string | null;
};

const defaultLaunch: KilnLaunch = { script: "start", portFrom: "flag", hostname: "127.0.0.1" };

export class KilnServer {
  private child: ChildProcess | undefined;
  readonly url: string;
  private readonly launch: KilnLaunch;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    launch: Partial<KilnLaunch> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.launch = { ...defaultLaunch, ...launch };
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** `npm start` (or `npm run dev`) on this server's port; resolves once /login answers. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`server ${this.name} is already running`);
    if (await portAnswers(this.port))
      throw new Error(`port ${this.port} is taken: server ${this.name} cannot start`);
    fs.appendFileSync(this.logFile, `\n===== ${new Date().toISOString()} start ${this.name} =====\n`, {
      mode: 0o600,
    });
    const { script, portFrom, hostname } = this.launch;
    // A dev server starts as on a fresh clone, never on the compile cache an earlier test's server left.
    if (script === "dev") discardDevOutput();
    const child = spawnGroup(
      [
        `scripts/${script}.ts`,
        ...(portFrom === "flag" ? ["-p", String(this.port)] : []),
        ...(hostname === null ? [] : ["-H", hostname]),
      ],
      portFrom === "env" ? { ...this.env, PORT: String(this.port) } : this.env,
      this.logFile,
    );
    this.child = child;
    const readyMs = script === "dev" ? DEV_READY_MS : READY_MS;
    await waitUntil(`server ${this.name} on ${this.url} (log: ${this.logFile})`, readyMs, async () => {
      if (!this.running) throw new Error(`server ${this.name} exited while starting; see ${this.logFile}`);
      return answersOk(`${this.url}/login`);
    });
  }

  /** SIGKILL to the whole process group, as when the machine dies; returns when it did (Date.now()). */
  async kill(): Promise<number> {
    const child = this.child;
    if (!child) throw new Error(`server ${this.name} was never started`);
    signalGroup(child, "SIGKILL");
    const diedAt = Date.now();
    await exited(child);
    fs.appendFileSync(this.logFile, `\n===== ${new Date(diedAt).toISOString()} SIGKILL ${this.name} =====\n`);
    await waitUntil(`port ${this.port} to close`, 10_000, async () => !(await portAnswers(this.port)));
    return diedAt;
  }

  /** SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    signalGroup(child, "SIGTERM");
    const stopped = await Promise.race([exited(child).then(() => true), sleep(10_000).then(() => false)]);
    if (!stopped) signalGroup(child, "SIGKILL");
    await exited(child);
  }
}

/** What `GET /calls` on the scripted model's control port answers (tests/e2e/scripted-model.ts). */
export const modelCallsSchema = z.object({
  total: z.number().int(),
  planner: z.number().int(),
  agent: z.number().int(),
  agentTurns: z.number().int(),
});
export type ModelCalls = z.infer<typeof modelCallsSchema>;

export class ScriptedModel {
  private child: ChildProcess | undefined;
  readonly url: string;
  readonly controlUrl: string;

  constructor(
    private readonly port: number,
    private readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.controlUrl = `http://127.0.0.1:${port + 1}`;
  }

  async start(): Promise<void> {
    if (await portAnswers(this.port))
      throw new Error(`port ${this.port} is taken: the scripted model cannot start`);
    this.child = spawnGroup(
      ["tests/e2e/scripted-model.ts"],
      { ...process.env, KILN_E2E_MODEL_PORT: String(this.port) },
      this.logFile,
    );
    await waitUntil("the scripted model", 60_000, () => answersOk(`${this.controlUrl}/health`));
  }

  /** The scenarios it answers from now on (tests/fixtures/scenarios), each agent call delayed by `agentDelayMs`. */
  async switchScript(parts: string[], options: { agentDelayMs?: number } = {}): Promise<void> {
    const response = await fetch(`${this.controlUrl}/scenario`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ parts, ...options }),
    });
    if (!response.ok) throw new Error(`the scripted model refused the script: ${await response.text()}`);
  }

  async calls(): Promise<ModelCalls> {
    const response = await fetch(`${this.controlUrl}/calls`);
    return modelCallsSchema.parse(await response.json());
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    signalGroup(this.child, "SIGTERM");
    await exited(this.child);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The operator's API, as much of it as the durability tests read.

export const revisionViewSchema = z.object({
  id: z.string(),
  status: z.string(),
  step: z.string().nullable().optional(),
  error: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
  commitSha: z.string().nullable(),
  previewUrl: z.string().nullable(),
});
export type RevisionView = z.infer<typeof revisionViewSchema>;

const createdProjectSchema = z.object({
  project: z.object({ id: z.string() }),
  task: z.object({ id: z.string() }),
  revision: z.object({ id: z.string() }),
});
export type CreatedProject = { projectId: string; taskId: string; revisionId: string };

const terminal = new Set(["finished", "failed", "cancelled"]);

/** fetch's "fetch failed" whose cause is a reset connection. */
function isConnectionReset(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && "code" in cause && cause.code === "ECONNRESET";
}

export class KilnApi {
  constructor(
    readonly server: KilnServer,
    private readonly token: string,
  ) {}

  get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  private async call(method: string, route: string, body?: unknown): Promise<Response> {
    // A read is asked again once when its connection was reset: across a restart on the same port, or a server
    // closing an idle keep-alive socket as the request goes out, the operator's browser would simply ask again.
    if (method === "GET") {
      try {
        return await this.send(method, route, body);
      } catch (error) {
        if (!isConnectionReset(error)) throw error;
        console.warn(`[e2e] GET ${route} on ${this.server.name}: connection reset, asking again`);
        return this.send(method, route, body);
      }
    }
    return this.send(method, route, body);
  }

  private send(method: string, route: string, body?: unknown): Promise<Response> {
    return fetch(`${this.server.url}${route}`, {
      method,
      headers: { ...this.headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  }

  private async json(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await this.call(method, route, body);
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${method} ${route} on ${this.server.name}: ${response.status} ${text}`);
    return JSON.parse(text);
  }

  /** The operator's OpenAI key, pointing at the scripted model (as a key for a compatible server would). */
  async saveModelKey(model: ScriptedModel): Promise<void> {
    await this.json("PUT", "/api/v1/credentials/openai", {
      apiKey: E2E_MODEL_KEY,
      baseUrl: `${model.url}/v1`,
    });
  }

  /** POST /api/v1/projects: the build starts on this server at once. */
  async createProject(prompt: string): Promise<CreatedProject> {
    const created = createdProjectSchema.parse(
      await this.json("POST", "/api/v1/projects", { prompt, agent: "codex" }),
    );
    return { projectId: created.project.id, taskId: created.task.id, revisionId: created.revision.id };
  }

  async revision(id: string): Promise<RevisionView> {
    const body = z
      .object({ revision: revisionViewSchema })
      .parse(await this.json("GET", `/api/v1/revisions/${id}`));
    return body.revision;
  }

  /** Polls the revision until `done` holds; throws with what it saw when it ends otherwise or time runs out. */
  async waitForRevision(
    id: string,
    what: string,
    done: (revision: RevisionView) => boolean,
    timeoutMs: number,
    intervalMs = 250,
  ): Promise<RevisionView> {
    const deadline = Date.now() + timeoutMs;
    let last: RevisionView | undefined;
    while (Date.now() < deadline) {
      last = await this.revision(id);
      if (done(last)) return last;
      if (terminal.has(last.status)) break;
      await sleep(intervalMs);
    }
    const seen = last ? `${last.status}${last.error ? ` (${last.error.message})` : ""}` : "nothing";
    throw new Error(
      `revision ${id} never became ${what} within ${timeoutMs} ms on ${this.server.name}: ${seen}`,
    );
  }

  async deleteProject(id: string): Promise<void> {
    const response = await this.call("DELETE", `/api/v1/projects/${id}`);
    await response.body?.cancel();
  }
}

/**
 * GET a preview link (`http://p-<label>.localhost:<port>/`) through Kiln's front at 127.0.0.1:<port> with the
 * link's Host header, as a browser resolving `*.localhost` to loopback would. Answers the status and the body.
 */
export function fetchPreview(previewUrl: string): Promise<{ status: number; body: string }> {
  const url = new URL(previewUrl);
  return new Promise((resolve, reject) => {
    const request = http.get(
      {
        host: "127.0.0.1",
        port: Number(url.port || 80),
        path: `${url.pathname}${url.search}`,
        headers: { host: url.host },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () =>
      request.destroy(new Error(`the preview ${previewUrl} did not answer in 30 s`)),
    );
    request.on("error", reject);
  });
}

/**
 * Waits until the revision is generating and the agent has made two calls since `agentCallsBefore`: mid-turn (with
 * a slow agent, seconds before its turn ends). A revision that ends first fails the wait with its reason.
 */
export async function waitForAgentMidTurn(
  api: () => KilnApi,
  model: ScriptedModel,
  input: { revisionId: string; agentCallsBefore: number; timeoutMs: number },
): Promise<RevisionView> {
  const deadline = Date.now() + input.timeoutMs;
  while (Date.now() < deadline) {
    const revision = await api().revision(input.revisionId);
    if (terminal.has(revision.status))
      throw new Error(
        `the build ended ${revision.status} before the agent's turn${revision.error ? `: ${revision.error.message}` : ""}`,
      );
    const { agent } = await model.calls();
    if (revision.status === "generating" && agent - input.agentCallsBefore >= 2) return revision;
    await sleep(100);
  }
  throw new Error(`the agent was not mid-turn within ${input.timeoutMs} ms`);
}

// ---------------------------------------------------------------------------------------------------------------

async function recreateDatabase(serverUrl: string, database: string): Promise<string> {
  // Only a database named like the e2e ones is ever dropped.
  if (!/^kiln_e2e_\w+$/.test(database))
    throw new Error(`refusing to drop "${database}": not an e2e database`);
  const url = new URL(serverUrl);
  const connection = await createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.query(`CREATE DATABASE \`${database}\``);
  } finally {
    await connection.end();
  }
  url.pathname = `/${database}`;
  return url.toString();
}

export type KilnCluster = {
  servers: KilnServer[];
  model: ScriptedModel;
  dataDir: string;
  /** An API token of the cluster's first operator (made with the CLI, as an admin would). */
  token: string;
  /** The first operator's API on a server (an API token made with the CLI once the first server is up). */
  api(server: KilnServer): KilnApi;
  /** Stops every server and the model (a SIGKILLed server is already gone). */
  close(): Promise<void>;
};

/**
 * A fresh cluster: the data dir emptied, the MySQL database dropped and recreated, the first server started alone
 * (it migrates and creates the operator), then the others, then an API token and the operator's model key.
 */
export async function startKilnCluster(options: KilnClusterOptions): Promise<KilnCluster> {
  if (!fs.existsSync(path.resolve(".next/BUILD_ID")))
    throw new Error("no production build in .next: run `npx next build` first (npm run test:e2e does)");
  const root = path.join(os.tmpdir(), "kiln-e2e");
  const dataDir = path.join(root, options.name);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const databaseUrl = options.mysql
    ? await recreateDatabase(options.mysql.serverUrl, options.mysql.database)
    : "";
  const shared: Record<string, string> = {
    KILN_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    // Set explicitly and the same for all: every server decrypts what another stored.
    KILN_SECRET_KEY: randomBytes(32).toString("base64"),
    KILN_ADMIN_EMAIL: ADMIN.email,
    KILN_ADMIN_PASSWORD: ADMIN.password,
    // Deploy on, as in production: it reuses the verified build (seconds), and it is the work between a stored commit
    // and the end, where durability.spec.ts kills a server the second time (without it the end follows the commit
    // within milliseconds).
    KILN_AUTO_DEPLOY: "1",
    // Every cluster starts on an empty data dir: installing both agents' CLIs at boot would only load the box.
    KILN_PREPARE_AT_BOOT: "0",
    KILN_ALLOW_PRIVATE_MODEL_URLS: "1",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  const servers = options.ports.map((port, i) => {
    const name = String.fromCharCode(65 + i);
    const logFile = path.join(root, `${options.name}-${name}.log`);
    fs.rmSync(logFile, { force: true });
    return new KilnServer(
      name,
      port,
      { ...process.env, ...shared, KILN_PUBLIC_URL: `http://127.0.0.1:${port}` },
      logFile,
    );
  });
  const modelLog = path.join(root, `${options.name}-model.log`);
  fs.rmSync(modelLog, { force: true });
  const model = new ScriptedModel(options.modelPort, modelLog);
  const close = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await model.stop();
  };
  try {
    await model.start();
    const [first, ...others] = servers;
    if (!first) throw new Error("a cluster needs at least one port");
    await first.start();
    await Promise.all(others.map((server) => server.start()));
    const token = createToken(ADMIN.email, "durability", shared);
    const api = (server: KilnServer) => new KilnApi(server, token);
    await api(first).saveModelKey(model);
    return { servers, model, dataDir, token, api, close };
  } catch (error) {
    await close();
    throw error;
  }
}
