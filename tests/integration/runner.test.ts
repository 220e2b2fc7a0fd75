import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentKind } from "../../src/agents/registry";
import type { WireEvent } from "../../src/server/events/schema";
import { createLocalSandboxes } from "../../src/server/integrations/sandboxes/local";
import type { DetachedCommand, Sandboxes, SandboxHandle } from "../../src/server/integrations/sandboxes/port";
import { buildRunnerBundle, type RunnerBundle } from "../../src/server/runner-bundle/build-runner";
import { ensureToolchain, type Toolchain } from "../../src/server/toolchains/install";
import { type ModelServer, type ScenarioInput, startModelServer } from "../fakes/model-server";
import { startWebhookReceiver, type WebhookReceiver } from "./runner-receiver";

// The bundled runner, end to end, inside a local sandbox: the real agent CLIs (from the shared toolchain cache, as
// in tests/integration/toolchains) against a scripted model server, a small app whose migrate/build/dev scripts
// are one-liners, and a webhook receiver that checks every signed batch.

const cacheRoot = path.join(fs.existsSync("/var/tmp") ? "/var/tmp" : os.tmpdir(), "kiln-toolchains-cache");
const runToken = "krt_runner-test-token.5f2a9c";
const webhookSecret = "whsec_runner-e2e-secret-7c1d0e";
const prompt = "Write hello.txt and make the build pass";
const fixMarker = "failed with this error";

let root: string;
let templateDir: string;
let bundle: RunnerBundle;
let sandboxes: Sandboxes;
const toolchainsByAgent = new Map<AgentKind, Toolchain>();

const appPackage = {
  name: "runner-test-app",
  private: true,
  scripts: {
    migrate:
      "node -e \"if(!process.env.DATABASE_URL){console.error('DATABASE_URL is not set');process.exit(2)}console.log('migrated',process.argv[1])\"",
    build:
      "node -e \"const s=require('fs').readFileSync('state.txt','utf8').trim();if(s!=='ok'){console.error('build error: state is '+s);process.exit(1)}console.log('built ok')\"",
    dev: "node dev.cjs",
  },
};

// Like \`next dev\`, it serves the files as they are now (the agent's edits show without a restart), and it starts
// before the agent has written anything. It notes its pid, so a scenario can stop it as an agent might.
const devServer = `const http = require("node:http");
const fs = require("node:fs");
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
fs.writeFileSync("dev.pid", String(process.pid));
http
  .createServer((req, res) => {
    if (fs.existsSync("crash-dev")) process.exit(3);
    const ready = fs.existsSync("hello.txt");
    console.log(req.method + " " + req.url + " " + (ready ? 200 : 404));
    if (!ready) {
      res.statusCode = 404;
      return res.end("no hello.txt yet");
    }
    res.end("preview: " + fs.readFileSync("hello.txt", "utf8"));
  })
  .listen(Number(arg("--port")), arg("--hostname"));
`;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-runner-e2e-"));
  templateDir = path.join(root, "template");
  fs.mkdirSync(templateDir);
  fs.writeFileSync(path.join(templateDir, "package.json"), `${JSON.stringify(appPackage, null, 2)}\n`);
  fs.writeFileSync(path.join(templateDir, "dev.cjs"), devServer);
  fs.writeFileSync(path.join(templateDir, "state.txt"), "initial\n");
  fs.writeFileSync(path.join(templateDir, ".gitignore"), "node_modules/\ndev.pid\n");
  for (const agent of ["codex", "claude-code"] as const) {
    toolchainsByAgent.set(agent, await ensureToolchain({ cacheRoot, agent }));
  }
  bundle = await buildRunnerBundle(path.join(root, "bundles"));
  // The runner under test talks to two stand-in servers on the host loopback (gateway, webhook); the sandbox's
  // own network and its door are covered by sandbox-containment.test.ts and, end to end, by pipeline.test.ts.
  sandboxes = createLocalSandboxes({
    root: path.join(root, "sandboxes"),
    hidePaths: [cacheRoot],
    network: null,
  });
}, 20 * 60_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function toolchain(agent: AgentKind): Toolchain {
  const found = toolchainsByAgent.get(agent);
  if (!found) throw new Error(`no toolchain for ${agent}`);
  return found;
}

type RunResult = {
  exitCode: number | null;
  command: DetachedCommand;
  events: WireEvent[];
  hook: WebhookReceiver;
  gateway: ModelServer;
  sandbox: SandboxHandle;
  logs: string;
};

type RunOptions = {
  agent: AgentKind;
  scenario: ScenarioInput;
  preview?: boolean;
  /** Inspect the run once this holds, while the runner still runs (default: once it exited). */
  until?: (events: WireEvent[], gateway: ModelServer) => boolean;
  prompt?: string;
  resumeSessionId?: string;
  /** Placed under `.kiln/session/` before the runner starts, as the platform does from blob storage. */
  sessionFiles?: Array<{ path: string; content: Buffer }>;
  steps?: { migrate: boolean; build: boolean; commit: boolean };
  /** The app the sandbox starts from (default: the test app with migrate, build and dev scripts). */
  appDir?: string;
};

const isTerminal = (event: WireEvent) => event.type === "runner.finished" || event.type === "runner.failed";

/** Starts the runner in a fresh sandbox; waits for its exit (or for `until`), then hands the result to `inspect`. */
async function runRunner(
  options: RunOptions,
  inspect?: (result: RunResult) => Promise<void>,
): Promise<RunResult> {
  const gateway = await startModelServer({ scenario: options.scenario, auth: { bearer: runToken } });
  const hook = await startWebhookReceiver({ secret: webhookSecret });
  const sandbox = await sandboxes.create({
    name: `runner-${options.agent}-${Date.now()}`,
    source: { kind: "directory", path: options.appDir ?? templateDir },
    ports: options.preview ? [3000] : [],
    env: {},
    timeoutMs: 5 * 60_000,
    readOnlyPaths: [toolchain(options.agent).dir],
  });
  let command: DetachedCommand | undefined;
  try {
    const home = (await sandbox.run({ cmd: "sh", args: ["-c", 'printf %s "$HOME"'] })).stdout;
    const spec = {
      runId: `run_${options.agent.replace("-", "_")}_${Date.now()}`,
      seqBase: 5,
      revisionId: "rev_1",
      agent: options.agent,
      prompt: options.prompt ?? prompt,
      model: options.agent === "codex" ? "gpt-5.5" : "claude-sonnet-4-5",
      ...(options.resumeSessionId ? { resumeSessionId: options.resumeSessionId } : {}),
      gatewayBaseUrl: gateway.url,
      runToken,
      webhookUrl: hook.url,
      webhookSecret,
      databaseUrl: "mysql://app:app-password@127.0.0.1:3306/app_branch",
      workdir: sandbox.workdir,
      agentHome: home,
      binPath: toolchain(options.agent).binPath,
      ...(options.preview ? { previewPort: sandbox.listenPort(3000), previewHost: "127.0.0.1" } : {}),
      steps: {
        ...(options.steps ?? { migrate: true, build: true, commit: true }),
        preview: options.preview ?? false,
      },
    };
    await sandbox.writeFiles([
      { path: ".kiln/runner.mjs", content: fs.readFileSync(bundle.file) },
      { path: ".kiln/run.json", content: JSON.stringify(spec) },
      ...(options.sessionFiles ?? []).map((file) => ({
        path: `.kiln/session/${file.path}`,
        content: file.content,
      })),
    ]);
    command = await sandbox.runDetached({
      cmd: "node",
      args: [path.join(sandbox.workdir, ".kiln/runner.mjs"), path.join(sandbox.workdir, ".kiln/run.json")],
    });
    const started = command;
    let exitCode: number | null = null;
    const until =
      options.until ?? (options.preview ? (events: WireEvent[]) => events.some(isTerminal) : undefined);
    if (until) await waitFor(() => until(hook.events(), gateway));
    else exitCode = (await started.wait()).exitCode;
    const result: RunResult = {
      exitCode,
      command: started,
      events: sorted(hook.events()),
      hook,
      gateway,
      sandbox,
      logs: "",
    };
    if (!until) result.logs = await logsOf(started);
    await inspect?.(result);
    return result;
  } finally {
    await command?.kill();
    await sandbox.stop();
    await Promise.all([gateway.close(), hook.close()]);
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the runner");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function logsOf(command: DetachedCommand): Promise<string> {
  let text = "";
  for await (const chunk of command.logs()) text += chunk.data;
  return text;
}

function sorted(events: WireEvent[]): WireEvent[] {
  return [...events].sort((a, b) => a.seq - b.seq);
}

/** The event log's invariants: seq from seqBase (5) with no gap, ids `<runId>-<seq>`, one terminal event, last. */
function expectWellFormed(events: WireEvent[], hook: WebhookReceiver): void {
  expect(hook.requests.every((request) => request.status === 200)).toBe(true);
  expect(events.map((event) => event.seq)).toEqual([...Array(events.length).keys()].map((n) => n + 5));
  const runId = hook.requests[0]?.batch?.runId;
  expect(events.every((event) => event.id === `${runId}-${event.seq}`)).toBe(true);
  const terminal = events.filter(
    (event) => event.type === "runner.finished" || event.type === "runner.failed",
  );
  expect(terminal).toHaveLength(1);
  const last = events.filter((event) => event.type !== "runner.heartbeat").at(-1);
  expect(last).toEqual(terminal[0]);
  const wire = JSON.stringify(events);
  expect(wire).not.toContain(webhookSecret);
  expect(wire).not.toContain(runToken);
}

function steps(events: WireEvent[]): string[] {
  return events.flatMap((event) =>
    event.type === "runner.step"
      ? [`${event.payload.step}:${event.payload.status}:${event.payload.attempt}`]
      : [],
  );
}

function outputOf(events: WireEvent[], step: string): string {
  return events
    .map((event) => (event.type === "runner.output" && event.payload.step === step ? event.payload.text : ""))
    .join("");
}

/** Clones the run's bundle on the host: what the platform does with it. */
async function cloneBundle(sandbox: SandboxHandle, bundleFile: string): Promise<string> {
  const bytes = await sandbox.readFile(bundleFile);
  if (!bytes) throw new Error(`${bundleFile} is missing`);
  const dir = fs.mkdtempSync(path.join(root, "clone-"));
  const file = path.join(dir, "out.bundle");
  fs.writeFileSync(file, bytes);
  const git = (args: string[], cwd = dir) =>
    execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  git(["init", "-q", "verify"]);
  git(["bundle", "verify", "-q", file], path.join(dir, "verify"));
  git(["clone", "-q", file, "repo"]);
  return path.join(dir, "repo");
}

const basic = (agent: AgentKind): ScenarioInput => ({
  name: `runner-basic-${agent}`,
  turns: [
    {
      when: { api: "openai", step: 0 },
      reply: {
        kind: "patch",
        patch: "*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n",
      },
    },
    {
      when: { api: "anthropic", step: 0 },
      reply: { kind: "write", path: "hello.txt", content: "hello from claude\n", say: "Writing the file." },
    },
    { when: { step: 1 }, reply: { kind: "shell", command: "echo ok > state.txt" } },
    {
      when: { minStep: 2 },
      reply: { kind: "text", text: "All done: hello.txt written and the build fixed." },
    },
  ],
});

function fixing(fixCommand: string): ScenarioInput {
  return {
    name: "runner-fix",
    turns: [
      { when: { promptContains: fixMarker, step: 0 }, reply: { kind: "shell", command: fixCommand } },
      { when: { promptContains: fixMarker, minStep: 1 }, reply: { kind: "text", text: "Fixed the state." } },
      {
        when: { step: 0 },
        reply: { kind: "shell", command: "echo hello > hello.txt && echo broken > state.txt" },
      },
      { when: { minStep: 1 }, reply: { kind: "text", text: "Done." } },
    ],
  };
}

describe.each(["codex", "claude-code"] as const)("the runner with %s", (agent) => {
  it("runs the agent, migrates, builds, commits a verifiable bundle, serves the preview, and reports it all", async () => {
    const inspect = async ({ sandbox, events, command }: RunResult) => {
      const preview = events.find((event) => event.type === "runner.preview");
      expect(preview?.payload).toEqual({ port: sandbox.listenPort(3000) });
      // After reporting finished, the runner stays alive as the preview's parent.
      const page = await fetch(sandbox.url(3000), { signal: AbortSignal.timeout(10_000) });
      expect(await page.text()).toBe(`preview: hello from ${agent === "codex" ? "codex" : "claude"}\n`);
      const running = await Promise.race([
        command.wait().then(() => "exited"),
        new Promise((resolve) => setTimeout(() => resolve("running"), 300)),
      ]);
      expect(running).toBe("running");
      expect(await sandbox.readFile(".kiln/run.json")).toBeNull();
      const saved = await sandbox.run({ cmd: "find", args: [".kiln/session", "-name", "*.jsonl"] });
      expect(saved.stdout.trim()).not.toBe("");

      const committed = events.find((event) => event.type === "runner.committed");
      if (committed?.type !== "runner.committed") throw new Error("no runner.committed event");
      expect(committed.payload).toMatchObject({ bundleFile: ".kiln/out.bundle", message: prompt });
      const repo = await cloneBundle(sandbox, committed.payload.bundleFile);
      const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
      expect(git("rev-parse", "HEAD^{tree}")).toBe(committed.payload.treeSha);
      expect(git("log", "--format=%an|%s")).toBe(`Kiln Agent|${prompt}\nKiln|Base`);
      // The base commit is the exported tree exactly; the agent's commit adds its work and nothing of .kiln/.
      expect(git("ls-tree", "--name-only", "HEAD~1").split("\n")).toEqual([
        ".gitignore",
        "dev.cjs",
        "package.json",
        "state.txt",
      ]);
      expect(git("ls-tree", "--name-only", "HEAD").split("\n")).toEqual([
        ".gitignore",
        "dev.cjs",
        "hello.txt",
        "package.json",
        "state.txt",
      ]);
      expect(git("show", "HEAD:state.txt")).toBe("ok");

      // Stopped from outside, it stops the preview with it and exits cleanly (the run had finished).
      await command.kill();
      expect((await command.wait()).exitCode).toBe(0);
      await expect(fetch(sandbox.url(3000), { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    };
    const result = await runRunner({ agent, scenario: basic(agent), preview: true }, inspect);
    const { events, hook, gateway } = result;
    expectWellFormed(events, hook);
    expect(events.filter((event) => event.type !== "runner.heartbeat").at(-1)?.type).toBe("runner.finished");
    expect(steps(events)).toEqual([
      "generate:started:1",
      "generate:finished:1",
      "migrate:started:1",
      "migrate:finished:1",
      "preview:started:1",
      "preview:finished:1",
      "verify:started:1",
      "verify:finished:1",
      "commit:started:1",
      "commit:finished:1",
    ]);
    // The preview is reported as soon as it answers, before the build starts, and only once.
    const reported = events.filter((event) => event.type === "runner.preview");
    expect(reported).toHaveLength(1);
    const buildStarted = events.find(
      (event) => event.type === "runner.step" && event.payload.step === "verify",
    );
    expect(reported[0]?.seq).toBeLessThan(buildStarted?.seq ?? 0);
    // It was started before the agent's turn and warmed: its first page was asked for while hello.txt did not
    // exist yet (404), then answered with the agent's file without a restart.
    expect(outputOf(events, "preview")).toMatch(/GET \/ 404[\s\S]*GET \/ 200/);
    const types = new Set(events.map((event) => event.type));
    for (const type of [
      "agent.session",
      "agent.command",
      "agent.message",
      "agent.usage",
      "agent.file_change",
    ]) {
      expect(types, type).toContain(type);
    }
    expect(events.find((event) => event.type === "agent.file_change")?.payload).toMatchObject({
      changes: [{ path: "hello.txt", kind: "add" }],
    });
    expect(outputOf(events, "migrate")).toContain("migrated up");
    expect(outputOf(events, "verify")).toContain("built ok");
    for (const request of gateway.modelRequests())
      expect(request.headers.authorization).toBe(`Bearer ${runToken}`);
  }, 180_000);
});

describe("the runner's fix turn", () => {
  it("gives the agent the build error once, resuming its session, and succeeds when the fix works (Codex)", async () => {
    const { exitCode, events, hook, gateway, logs } = await runRunner({
      agent: "codex",
      scenario: fixing("echo ok > state.txt"),
    });
    expect(exitCode, logs).toBe(0);
    expectWellFormed(events, hook);
    expect(steps(events)).toEqual([
      "generate:started:1",
      "generate:finished:1",
      "migrate:started:1",
      "migrate:finished:1",
      "verify:started:1",
      "verify:failed:1",
      "generate:started:2",
      "generate:finished:2",
      "migrate:started:2",
      "migrate:finished:2",
      "verify:started:2",
      "verify:finished:2",
      "commit:started:1",
      "commit:finished:1",
    ]);
    expect(events.at(-1)?.type).toBe("runner.finished");
    const fix = gateway.modelRequests().find((request) => request.conversation?.prompt.includes(fixMarker));
    expect(fix?.conversation?.prompt).toContain("build error: state is broken");
    // Resumed, not started afresh: the first prompt is in the conversation the fix turn sends.
    expect(fix?.rawBody).toContain(prompt);
    const sessions = events.filter((event) => event.type === "agent.session").map((event) => event.payload);
    expect(sessions).toHaveLength(2);
    expect(sessions[1]).toEqual(sessions[0]);
    // Each turn made two model requests of 1,000 in / 100 out: the resumed turn reports its own, not the thread's.
    const usage = events.filter((event) => event.type === "agent.usage").map((event) => event.payload);
    expect(usage).toEqual([
      { inputTokens: 2000, outputTokens: 200, cachedTokens: 0 },
      { inputTokens: 2000, outputTokens: 200, cachedTokens: 0 },
    ]);
  }, 120_000);

  it("fails with the build's reason when the fix turn does not fix it (Claude Code)", async () => {
    const { exitCode, events, hook, logs } = await runRunner({
      agent: "claude-code",
      scenario: fixing("echo still-broken > state.txt"),
    });
    expect(exitCode, logs).toBe(1);
    expectWellFormed(events, hook);
    expect(steps(events).slice(-5)).toEqual([
      "generate:finished:2",
      "migrate:started:2",
      "migrate:finished:2",
      "verify:started:2",
      "verify:failed:2",
    ]);
    const failed = events.at(-1);
    expect(failed?.type).toBe("runner.failed");
    expect(failed?.payload).toEqual({
      step: "verify",
      reason: expect.stringMatching(
        /^npm run build failed \(exit code 1\): .*build error: state is still-broken/s,
      ),
    });
    expect(events.some((event) => event.type === "runner.committed")).toBe(false);
  }, 120_000);
});

function agentDoes(command: string): ScenarioInput {
  return {
    name: "runner-dev-server",
    turns: [
      { when: { step: 0 }, reply: { kind: "shell", command } },
      { when: { minStep: 1 }, reply: { kind: "text", text: "Done." } },
    ],
  };
}

describe("the runner's dev server", () => {
  it("is started again (once) when the agent stopped it, and the run finishes serving the preview", async () => {
    const inspect = async ({ sandbox, events }: RunResult) => {
      const page = await fetch(sandbox.url(3000), { signal: AbortSignal.timeout(10_000) });
      expect(await page.text()).toBe("preview: hello\n");
      expect(events.filter((event) => event.type !== "runner.heartbeat").at(-1)?.type).toBe(
        "runner.finished",
      );
    };
    const { events, hook } = await runRunner(
      {
        agent: "codex",
        scenario: agentDoes("echo hello > hello.txt && echo ok > state.txt && kill $(cat dev.pid)"),
        preview: true,
      },
      inspect,
    );
    expectWellFormed(events, hook);
    expect(steps(events)).toContain("preview:finished:1");
    expect(events.filter((event) => event.type === "runner.preview")).toHaveLength(1);
  }, 120_000);

  it("fails the run at preview, with its exit, when it dies again after the restart", async () => {
    const { events, hook } = await runRunner({
      agent: "codex",
      scenario: agentDoes("echo hello > hello.txt && echo ok > state.txt && touch crash-dev"),
      preview: true,
    });
    expectWellFormed(events, hook);
    // The build still ran (a failing one would have gone to the agent); it passed, so the preview's failure ends it.
    expect(steps(events)).toEqual([
      "generate:started:1",
      "generate:finished:1",
      "migrate:started:1",
      "migrate:finished:1",
      "preview:started:1",
      "preview:failed:1",
      "verify:started:1",
      "verify:finished:1",
    ]);
    expect(events.at(-1)).toMatchObject({
      type: "runner.failed",
      payload: {
        step: "preview",
        reason: expect.stringMatching(/^npm run dev exited with code 3, after one restart/),
      },
    });
    expect(events.some((event) => event.type === "runner.committed" || event.type === "runner.preview")).toBe(
      false,
    );
  }, 120_000);
});

/** Every file under `.kiln/session/` of a (local) sandbox: what the platform stores after a run. */
function savedSession(sandbox: SandboxHandle): Array<{ path: string; content: Buffer }> {
  const store = path.join(sandbox.workdir, ".kiln", "session");
  return fs
    .readdirSync(store, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { path: path.relative(store, file), content: fs.readFileSync(file) };
    });
}

describe("an app without a migrate script (an imported one, docs/import.md)", () => {
  it("runs no migration: the migrate step says so and passes, and the build and commit follow", async () => {
    const appDir = path.join(root, "no-migrate");
    fs.cpSync(templateDir, appDir, { recursive: true });
    const { migrate: _none, ...scripts } = appPackage.scripts;
    fs.writeFileSync(
      path.join(appDir, "package.json"),
      `${JSON.stringify({ ...appPackage, scripts }, null, 2)}\n`,
    );
    const result = await runRunner({ agent: "codex", scenario: basic("codex"), appDir });
    expect(result.exitCode, result.logs).toBe(0);
    expectWellFormed(result.events, result.hook);
    expect(steps(result.events)).toEqual([
      "generate:started:1",
      "generate:finished:1",
      "migrate:started:1",
      "migrate:finished:1",
      "verify:started:1",
      "verify:finished:1",
      "commit:started:1",
      "commit:finished:1",
    ]);
    expect(outputOf(result.events, "migrate")).toBe(
      'package.json has no "migrate" script: no migrations to run.\n',
    );
    expect(result.events.some((event) => event.type === "runner.finished")).toBe(true);
  }, 180_000);
});

describe("the runner's next revision", () => {
  it.each(["codex", "claude-code"] as const)(
    "%s resumes the previous run's session in a new sandbox, from the saved session files",
    async (agent) => {
      let files: Array<{ path: string; content: Buffer }> = [];
      const first = await runRunner({ agent, scenario: basic(agent) }, async ({ sandbox }) => {
        files = savedSession(sandbox);
      });
      expect(first.exitCode, first.logs).toBe(0);
      expect(files.length).toBeGreaterThan(0);
      const sessionId = first.events.find((event) => event.type === "agent.session")?.payload;
      if (!sessionId || !("sessionId" in sessionId)) throw new Error("no session id");

      const followUp = "Now add a footer";
      const second = await runRunner({
        agent,
        prompt: followUp,
        resumeSessionId: sessionId.sessionId,
        sessionFiles: files,
        steps: { migrate: false, build: false, commit: false },
        scenario: { name: "runner-follow-up", turns: [{ reply: { kind: "text", text: "Footer added." } }] },
      });
      expect(second.exitCode, second.logs).toBe(0);
      expectWellFormed(second.events, second.hook);
      // The conversation continues: the first run's prompt and work are in what the model is sent.
      const request = second.gateway.modelRequests()[0];
      expect(request?.conversation?.prompt).toContain(followUp);
      expect(request?.rawBody).toContain(prompt);
      expect(request?.rawBody).toContain("All done: hello.txt written and the build fixed.");
      // Codex counts the thread's tokens from the start; the runner reports this run's one request only.
      const usage = second.events
        .filter((event) => event.type === "agent.usage")
        .map((event) => event.payload);
      expect(usage).toEqual([{ inputTokens: 1000, outputTokens: 100, cachedTokens: 0 }]);
    },
    180_000,
  );
});

describe("the runner stopped from outside", () => {
  it("stops the agent and reports the run failed at the step it was in", async () => {
    const scenario: ScenarioInput = { name: "runner-hang", turns: [{ reply: { kind: "hang" } }] };
    const inspect = async ({ command, hook }: RunResult) => {
      await command.kill();
      expect((await command.wait()).exitCode).toBe(1);
      // Flushed before it exited.
      const events = sorted(hook.events());
      expectWellFormed(events, hook);
      expect(events.at(-1)?.payload).toEqual({
        step: "generate",
        reason: "the runner was stopped (SIGTERM)",
      });
    };
    await runRunner(
      {
        agent: "codex",
        scenario,
        until: (events, gateway) => gateway.modelRequests().length > 0 && events.length > 1,
      },
      inspect,
    );
  }, 60_000);
});

describe("the runner over budget", () => {
  it.each(["codex", "claude-code"] as const)(
    "reports %s refused by the gateway as budget exceeded",
    async (agent) => {
      const scenario: ScenarioInput = {
        name: "runner-budget",
        turns: [
          { reply: { kind: "error", status: 429, message: "Budget exceeded: this run used its budget." } },
        ],
      };
      const { exitCode, events, hook, logs } = await runRunner({ agent, scenario });
      expect(exitCode, logs).toBe(1);
      expectWellFormed(events, hook);
      expect(steps(events)).toEqual(["generate:started:1", "generate:failed:1"]);
      expect(events.at(-1)?.payload).toEqual({ step: "generate", reason: "budget exceeded" });
      expect(events.some((event) => event.type === "agent.error")).toBe(true);
    },
    120_000,
  );
});
