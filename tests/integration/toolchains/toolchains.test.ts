import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeCommand } from "../../../src/agents/claude-code/command";
import { claudeRunEnv } from "../../../src/agents/claude-code/run-env";
import { codexCommand } from "../../../src/agents/codex/command";
import { codexRunConfig } from "../../../src/agents/codex/run-config";
import { createLocalSandboxes } from "../../../src/server/integrations/sandboxes/local";
import type {
  CommandResult,
  Sandboxes,
  SandboxHandle,
} from "../../../src/server/integrations/sandboxes/port";
import { asProcessEnv } from "../../../src/server/process-env";
import { writeHomeFilesCommand } from "../../../src/server/toolchains/home-files";
import { ensureToolchain, type Toolchain } from "../../../src/server/toolchains/install";
import { toolchainSpec } from "../../../src/server/toolchains/toolchain-spec";
import { toolchainCacheRoot } from "../../helpers/toolchains";
import { startFakeMessagesGateway, startFakeResponsesGateway, startRecordingProxy } from "./fake-gateway";

// The real CLIs, installed once per machine into a cache shared by every test run (about 760 MB; the first run
// downloads, later ones find it). Outside /tmp on purpose: local sandboxes replace /tmp, so only a cache elsewhere
// proves that `hidePaths` hides the cache and the read-only binds show the toolchains through.

const cacheRoot = toolchainCacheRoot();
const canaries = {
  OPENAI_API_KEY: "sk-platform-canary-openai-3f9d1c",
  ANTHROPIC_API_KEY: "sk-ant-platform-canary-77ab20",
  KILN_SECRET_KEY: "kiln-secret-key-canary-5e61aa",
};
const runToken = "kiln-run-token-4b7e0c9d2a";
const previousEnv: Record<string, string | undefined> = {};
const roots: string[] = [];
let codex: Toolchain;
let claude: Toolchain;
let sandboxes: Sandboxes;
let sandbox: SandboxHandle;
let home: string;

beforeAll(async () => {
  for (const [name, value] of Object.entries(canaries)) {
    previousEnv[name] = process.env[name];
    process.env[name] = value;
  }
  const progress = (message: string) => console.log(`[toolchains] ${message}`);
  codex = await ensureToolchain({ cacheRoot, agent: "codex", onProgress: progress });
  claude = await ensureToolchain({ cacheRoot, agent: "claude-code", onProgress: progress });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-toolchain-sandboxes-"));
  roots.push(root);
  // The fake gateways here listen on the host's loopback, which a sandbox with its own network cannot reach (its
  // door and egress proxy are covered by sandbox-containment.test.ts and, end to end, by pipeline.test.ts).
  sandboxes = createLocalSandboxes({ root, hidePaths: [cacheRoot], network: null });
  sandbox = await sandboxes.create({
    name: `toolchains-${process.pid}`,
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 10 * 60_000,
    readOnlyPaths: [codex.dir, claude.dir],
  });
  home = (await run(sandbox, "sh", ["-c", 'printf %s "$HOME"'])).stdout;
}, 20 * 60_000);

afterAll(async () => {
  await sandbox?.stop();
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  for (const [name, value] of Object.entries(previousEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function run(
  target: SandboxHandle,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return target.run({ cmd, args, env });
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every file under `dir` whose bytes contain one of `needles` (symlinks not followed). */
function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const file = path.join(current, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) {
        const content = fs.readFileSync(file);
        if (needles.some((needle) => content.includes(needle))) hits.push(file);
      }
    }
  };
  walk(dir);
  return hits;
}

describe("agent toolchains in the shared cache", () => {
  it("installs (or finds) both pinned CLIs, and each reports its version on the host", () => {
    for (const [toolchain, spec] of [
      [codex, toolchainSpec("codex")],
      [claude, toolchainSpec("claude-code")],
    ] as const) {
      expect(toolchain.version).toBe(spec.version);
      expect(toolchain.dir).toBe(path.join(fs.realpathSync(cacheRoot), `${spec.agent}-${spec.version}`));
      expect(toolchain.sizeBytes).toBeGreaterThan(50 * 1024 * 1024);
      const output = execFileSync(toolchain.binPath, ["--version"], {
        env: asProcessEnv({ PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: os.tmpdir() }),
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(output).toContain(spec.version);
    }
  });

  it("leaves nothing writable by group or others in the cached trees", () => {
    const writable = execFileSync("find", [codex.dir, claude.dir, "-perm", "/022", "!", "-type", "l"], {
      encoding: "utf8",
    });
    expect(writable).toBe("");
  });

  it("runs both CLIs inside a local sandbox through read-only binds of a hidden cache", async () => {
    const codexVersion = await run(sandbox, codex.binPath, ["--version"]);
    expect(codexVersion).toMatchObject({ exitCode: 0 });
    expect(codexVersion.stdout).toContain(`codex-cli ${toolchainSpec("codex").version}`);
    const claudeVersion = await run(sandbox, claude.binPath, ["--version"]);
    expect(claudeVersion).toMatchObject({ exitCode: 0 });
    expect(claudeVersion.stdout).toContain(`${toolchainSpec("claude-code").version} (Claude Code)`);
  });

  it("hides the rest of the cache and refuses writes into the toolchains", async () => {
    const planted = path.join(cacheRoot, `planted-${process.pid}.txt`);
    fs.writeFileSync(planted, "host-only");
    try {
      const listing = await run(sandbox, "ls", ["-A", cacheRoot]);
      expect(listing.stdout.split("\n").filter(Boolean).sort()).toEqual(
        [path.basename(claude.dir), path.basename(codex.dir)].sort(),
      );
      const read = await run(sandbox, "cat", [planted]);
      expect(read.exitCode).not.toBe(0);

      const target = path.join(codex.dir, "written-by-sandbox");
      const write = await run(sandbox, "sh", ["-c", 'echo x > "$1"', "sh", target]);
      expect(write.exitCode).not.toBe(0);
      expect(write.stderr).toMatch(/read-only file system/i);
      const remove = await run(sandbox, "rm", ["-f", claude.binPath]);
      expect(remove.exitCode).not.toBe(0);
      expect(fs.existsSync(target)).toBe(false);
      expect(fs.existsSync(claude.binPath)).toBe(true);
    } finally {
      fs.rmSync(planted, { force: true });
    }
  });
});

describe("per-run agent configuration inside the sandbox", () => {
  it("writes Codex's config into the sandbox HOME, pointing at the gateway and nowhere else", async () => {
    const gatewayBaseUrl = "http://127.0.0.1:4555/gateway";
    const config = codexRunConfig({ gatewayBaseUrl, model: "gpt-5.1-codex", runToken, home });
    expect(config.files.map((file) => file.path)).toEqual([path.join(home, ".codex", "config.toml")]);
    expect(config.env).toEqual({
      HOME: home,
      CODEX_HOME: path.join(home, ".codex"),
      KILN_RUN_TOKEN: runToken,
    });
    const write = await sandbox.run(writeHomeFilesCommand(config.files));
    expect(write).toMatchObject({ exitCode: 0 });

    const written = await run(sandbox, "cat", [path.join(home, ".codex", "config.toml")]);
    expect(written.stdout).toBe(config.files[0]?.content);
    expect(written.stdout).toContain(`base_url = "${gatewayBaseUrl}/v1"`);
    expect(written.stdout).toContain('env_key = "KILN_RUN_TOKEN"');
    expect(written.stdout.match(/https?:\/\/[^"\s]+/g)).toEqual([`${gatewayBaseUrl}/v1`]);
    expect(written.stdout).not.toMatch(/openai\.com|chatgpt\.com|github\.com/);
    // The token travels in the environment, never in a file.
    expect(written.stdout).not.toContain(runToken);
    // Nothing landed in the working copy (it becomes the app's git history).
    expect((await run(sandbox, "ls", ["-A", sandbox.workdir])).stdout).toBe("");
  });

  it("gives the agent an environment with only the gateway URL, the run token and quiet switches", async () => {
    const gatewayBaseUrl = "http://127.0.0.1:4555/gateway";
    const env = {
      ...codexRunConfig({ gatewayBaseUrl, model: "m", runToken, home }).env,
      ...claudeRunEnv({ gatewayBaseUrl, model: "m", runToken, home }),
    };
    const printed = await run(sandbox, "env", [], env);
    expect(printed.exitCode).toBe(0);
    const vars = Object.fromEntries(
      printed.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    for (const canary of Object.values(canaries)) expect(printed.stdout).not.toContain(canary);
    expect(Object.keys(vars)).not.toContain("OPENAI_API_KEY");
    expect(Object.keys(vars)).not.toContain("ANTHROPIC_API_KEY");
    expect(Object.keys(vars)).not.toContain("KILN_SECRET_KEY");
    expect(Object.entries(vars).filter(([, value]) => /https?:\/\//.test(value))).toEqual([
      ["ANTHROPIC_BASE_URL", gatewayBaseUrl],
    ]);
    expect(Object.entries(vars).filter(([, value]) => value === runToken)).toEqual([
      ["KILN_RUN_TOKEN", runToken],
      ["ANTHROPIC_AUTH_TOKEN", runToken],
    ]);
    expect(vars).toMatchObject({
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_MAX_RETRIES: "2",
      IS_SANDBOX: "1",
      CLAUDE_CONFIG_DIR: path.join(home, ".claude"),
    });
  });
});

describe("headless agent runs against a fake gateway, inside the sandbox", () => {
  it("Codex: one turn with a tool call, then a resumed turn, talking only to the gateway", async () => {
    const gateway = await startFakeResponsesGateway({
      token: runToken,
      toolCommand: "echo made-by-codex > codex-proof.txt; env",
      finalText: "codex finished",
    });
    const proxy = await startRecordingProxy();
    try {
      const model = "gpt-5.1-codex";
      const config = codexRunConfig({ gatewayBaseUrl: gateway.url, model, runToken, home });
      expect(await sandbox.run(writeHomeFilesCommand(config.files))).toMatchObject({ exitCode: 0 });
      // Any attempt to reach another host goes to the recording proxy instead.
      const env = {
        ...config.env,
        HTTPS_PROXY: proxy.url,
        HTTP_PROXY: proxy.url,
        NO_PROXY: "127.0.0.1,localhost",
      };
      const first = codexCommand({
        binPath: codex.binPath,
        prompt: "--make a proof file",
        model,
        workdir: sandbox.workdir,
      });
      const result = await sandbox.run({ cmd: first.cmd, args: first.args, env });
      expect(result.exitCode, result.stderr).toBe(0);
      const events = jsonLines(result.stdout);
      const threadId = events.find((event) => event.type === "thread.started")?.thread_id;
      expect(typeof threadId).toBe("string");
      expect(events.map((event) => event.type)).toContain("turn.completed");
      const items = events.filter((event) => event.type === "item.completed").map((event) => event.item);
      expect(items).toContainEqual(expect.objectContaining({ type: "command_execution", exit_code: 0 }));
      expect(items).toContainEqual(
        expect.objectContaining({ type: "agent_message", text: "codex finished" }),
      );
      expect((await sandbox.readFile("codex-proof.txt"))?.toString()).toBe("made-by-codex\n");

      expect(gateway.requests.length).toBeGreaterThanOrEqual(2);
      for (const request of gateway.requests) {
        expect(`${request.method} ${request.path}`).toBe("POST /v1/responses");
        expect(request.headers.authorization).toBe(`Bearer ${runToken}`);
      }
      expect(gateway.requests[0]?.body).toContain("--make a proof file");
      // The commands the model runs see the sandbox's environment minus the run token (shell_environment_policy).
      const toolResult = gateway.requests[1]?.body ?? "";
      expect(toolResult).toContain("CODEX_HOME=");
      expect(toolResult).not.toContain(runToken);
      for (const canary of Object.values(canaries)) expect(toolResult).not.toContain(canary);

      const before = gateway.requests.length;
      const next = codexCommand({
        binPath: codex.binPath,
        prompt: "and now the second prompt",
        model,
        workdir: sandbox.workdir,
        resumeSessionId: String(threadId),
      });
      const resumed = await sandbox.run({ cmd: next.cmd, args: next.args, env });
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(jsonLines(resumed.stdout).map((event) => event.type)).toContain("turn.completed");
      const resumedBody = gateway.requests[before]?.body ?? "";
      expect(resumedBody).toContain("--make a proof file");
      expect(resumedBody).toContain("and now the second prompt");
      expect(proxy.targets).toEqual([]);
    } finally {
      await Promise.all([gateway.close(), proxy.close()]);
    }
  }, 120_000);

  it("Claude Code: one turn with a tool call, then a resumed turn, talking only to the gateway", async () => {
    const gateway = await startFakeMessagesGateway({
      token: runToken,
      toolCommand: "echo made-by-claude > claude-proof.txt; env",
      finalText: "claude finished",
    });
    const proxy = await startRecordingProxy();
    try {
      const model = "claude-sonnet-4-5";
      const env = {
        ...claudeRunEnv({ gatewayBaseUrl: gateway.url, model, runToken, home }),
        HTTPS_PROXY: proxy.url,
        HTTP_PROXY: proxy.url,
        NO_PROXY: "127.0.0.1,localhost",
      };
      const first = claudeCommand({
        binPath: claude.binPath,
        prompt: "--make a proof file",
        model,
        workdir: sandbox.workdir,
      });
      const result = await sandbox.run({ cmd: first.cmd, args: first.args, env });
      expect(result.exitCode, result.stderr).toBe(0);
      const events = jsonLines(result.stdout);
      const init = events.find((event) => event.type === "system" && event.subtype === "init");
      expect(init).toMatchObject({ cwd: sandbox.workdir, model });
      const final = events.find((event) => event.type === "result");
      expect(final).toMatchObject({ is_error: false, result: "claude finished" });
      expect((await sandbox.readFile("claude-proof.txt"))?.toString()).toBe("made-by-claude\n");

      expect(gateway.requests.length).toBeGreaterThanOrEqual(2);
      for (const request of gateway.requests) {
        expect(`${request.method} ${request.path}`).toBe("POST /v1/messages?beta=true");
        expect(request.headers.authorization).toBe(`Bearer ${runToken}`);
        expect(request.headers["x-api-key"]).toBeUndefined();
      }
      expect(gateway.requests[0]?.body).toContain("--make a proof file");
      // Claude Code hands its whole environment to the commands it runs (its scrubbing needs a nested bubblewrap,
      // which the sandbox cannot offer): the run token is the only credential they can see.
      const toolResult = gateway.requests[1]?.body ?? "";
      expect(toolResult).toContain(`ANTHROPIC_AUTH_TOKEN=${runToken}`);
      for (const canary of Object.values(canaries)) expect(toolResult).not.toContain(canary);

      const before = gateway.requests.length;
      const next = claudeCommand({
        binPath: claude.binPath,
        prompt: "and now the second prompt",
        model,
        workdir: sandbox.workdir,
        resumeSessionId: String(final?.session_id),
      });
      const resumed = await sandbox.run({ cmd: next.cmd, args: next.args, env });
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(jsonLines(resumed.stdout).find((event) => event.type === "result")).toMatchObject({
        is_error: false,
      });
      const resumedBody = gateway.requests[before]?.body ?? "";
      expect(resumedBody).toContain("--make a proof file");
      expect(resumedBody).toContain("and now the second prompt");
      expect(proxy.targets).toEqual([]);
    } finally {
      await Promise.all([gateway.close(), proxy.close()]);
    }
  }, 120_000);

  it("Codex reads the written config as written: strict parse, escaped values, the gateway as provider", async () => {
    const gateway = await startFakeResponsesGateway({ token: runToken, finalText: "parsed" });
    try {
      const model = 'gpt-"quoted"\\name]';
      const config = codexRunConfig({ gatewayBaseUrl: gateway.url, model, runToken, home });
      expect(await sandbox.run(writeHomeFilesCommand(config.files))).toMatchObject({ exitCode: 0 });
      // No -m: the model comes from config.toml, so a mis-escaped value would show in the request.
      const args = [
        "exec",
        "--json",
        "--strict-config",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "--",
        "hi",
      ];
      const result = await sandbox.run({ cmd: codex.binPath, args, env: config.env });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(gateway.requests).toHaveLength(1);
      expect(JSON.parse(gateway.requests[0]?.body ?? "{}")).toMatchObject({ model });
    } finally {
      await gateway.close();
    }
  }, 60_000);

  it("both CLIs give up within seconds when the gateway is down, with a failure the runner can report", async () => {
    const closed = await startFakeResponsesGateway({ token: runToken, finalText: "never" });
    await closed.close();
    const model = "gpt-5.1-codex";
    const codexConfig = codexRunConfig({ gatewayBaseUrl: closed.url, model, runToken, home });
    expect(await sandbox.run(writeHomeFilesCommand(codexConfig.files))).toMatchObject({ exitCode: 0 });
    const started = Date.now();
    const codexRun = codexCommand({
      binPath: codex.binPath,
      prompt: "hi",
      model,
      workdir: sandbox.workdir,
    });
    const codexResult = await sandbox.run({ cmd: codexRun.cmd, args: codexRun.args, env: codexConfig.env });
    expect(codexResult.exitCode).not.toBe(0);
    expect(jsonLines(codexResult.stdout).map((event) => event.type)).toContain("turn.failed");

    const claudeRun = claudeCommand({
      binPath: claude.binPath,
      prompt: "hi",
      model: "claude-sonnet-4-5",
      workdir: sandbox.workdir,
    });
    const claudeEnv = claudeRunEnv({
      gatewayBaseUrl: closed.url,
      model: "claude-sonnet-4-5",
      runToken,
      home,
    });
    const claudeResult = await sandbox.run({ cmd: claudeRun.cmd, args: claudeRun.args, env: claudeEnv });
    expect(claudeResult.exitCode).not.toBe(0);
    expect(jsonLines(claudeResult.stdout).find((event) => event.type === "result")).toMatchObject({
      is_error: true,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 90_000);

  it("left no platform secret in any file of the sandbox (HOME, working copy, tmp)", () => {
    const sandboxDir = path.dirname(sandbox.workdir);
    expect(fs.readdirSync(home).sort()).toEqual([".claude", ".codex"]);
    expect(filesContaining(sandboxDir, Object.values(canaries))).toEqual([]);
  });
});
