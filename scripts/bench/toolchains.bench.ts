import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { claudeRunEnv } from "../../src/agents/claude-code/run-env";
import { codexRunConfig } from "../../src/agents/codex/run-config";
import { type AgentKind, agentDefinition } from "../../src/agents/registry";
import { createLocalSandboxes } from "../../src/server/integrations/sandboxes/local";
import { writeHomeFilesCommand } from "../../src/server/toolchains/home-files";
import { ensureToolchain } from "../../src/server/toolchains/install";
import {
  startFakeMessagesGateway,
  startFakeResponsesGateway,
} from "../../tests/integration/toolchains/fake-gateway";
import { type BenchRow, measure } from "./stats";

// Agent toolchains: the cached lookup every run pays, CLI start-up inside a local sandbox, and one headless turn
// of each agent against a fake gateway (the agent's own overhead per turn, model time excluded). Uses the same
// per-machine cache as the tests (installs there first if needed).

const cacheRoot = path.join(fs.existsSync("/var/tmp") ? "/var/tmp" : os.tmpdir(), "kiln-toolchains-cache");
const token = "bench-run-token-123";

export async function run(): Promise<BenchRow[]> {
  const codex = await ensureToolchain({ cacheRoot, agent: "codex" });
  const claude = await ensureToolchain({ cacheRoot, agent: "claude-code" });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-toolchains-"));
  const sandboxes = createLocalSandboxes({ root, hidePaths: [cacheRoot] });
  const sandbox = await sandboxes.create({
    name: "bench-toolchains",
    source: { kind: "empty" },
    ports: [],
    env: {},
    timeoutMs: 10 * 60_000,
    readOnlyPaths: [codex.dir, claude.dir],
  });
  const responses = await startFakeResponsesGateway({ token, finalText: "ok" });
  const messages = await startFakeMessagesGateway({ token, finalText: "ok" });
  try {
    const home = (await sandbox.run({ cmd: "sh", args: ["-c", 'printf %s "$HOME"'] })).stdout;
    const codexConfig = codexRunConfig({
      gatewayBaseUrl: responses.url,
      model: "gpt-5.1-codex",
      runToken: token,
      home,
    });
    await sandbox.run(writeHomeFilesCommand(codexConfig.files));
    const claudeEnv = claudeRunEnv({
      gatewayBaseUrl: messages.url,
      model: "claude-sonnet-4-5",
      runToken: token,
      home,
    });
    const turn = (agent: AgentKind, env: Record<string, string>) => async () => {
      const command = agentDefinition(agent).command({
        binPath: agent === "codex" ? codex.binPath : claude.binPath,
        prompt: "say ok",
        model: agent === "codex" ? "gpt-5.1-codex" : "claude-sonnet-4-5",
        workdir: sandbox.workdir,
      });
      const result = await sandbox.run({ cmd: command.cmd, args: command.args, env });
      if (result.exitCode !== 0) throw new Error(`${agent} failed: ${result.stderr.slice(-500)}`);
    };
    const version = (binPath: string) => async () => {
      const result = await sandbox.run({ cmd: binPath, args: ["--version"] });
      if (result.exitCode !== 0) throw new Error(`--version failed: ${result.stderr}`);
    };
    return [
      await measure(
        "[toolchains] ensureToolchain, already cached",
        50,
        () => ensureToolchain({ cacheRoot, agent: "codex" }),
        { goal: "≤ 5 ms" },
      ),
      await measure("[toolchains] codex --version in a local sandbox", 10, version(codex.binPath), {
        goal: "≤ 300 ms",
      }),
      await measure("[toolchains] claude --version in a local sandbox", 10, version(claude.binPath), {
        goal: "≤ 300 ms",
      }),
      await measure(
        "[toolchains] codex exec: one turn, fake gateway, in sandbox",
        10,
        turn("codex", codexConfig.env),
      ),
      await measure(
        "[toolchains] claude -p: one turn, fake gateway, in sandbox",
        10,
        turn("claude-code", claudeEnv),
      ),
    ];
  } finally {
    await Promise.allSettled([sandbox.stop(), responses.close(), messages.close()]);
    fs.rmSync(root, { recursive: true, force: true });
  }
}
