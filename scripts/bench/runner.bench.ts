import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClaudeNormalizer } from "../../src/agents/claude-code/normalizer";
import { createCodexNormalizer } from "../../src/agents/codex/normalizer";
import { createEventPoster } from "../../src/sandboxes/runner/poster";
import { createLocalSandboxes } from "../../src/server/integrations/sandboxes/local";
import { buildRunnerBundle } from "../../src/server/runner-bundle/build-runner";
import { ensureToolchain } from "../../src/server/toolchains/install";
import { startModelServer } from "../../tests/fakes/model-server";
import { startWebhookReceiver } from "../../tests/integration/runner-receiver";
import { type BenchRow, measure } from "./stats";

// The sandbox runner: normalising recorded agent JSONL (per 1,000 lines), posting events through signed batches
// to a local receiver that verifies them, bundling the runner, and one whole run of the bundled runner in a local
// sandbox (real Codex against a scripted model server; migrate and build are one-liners, so this is the runner's
// and the CLI's own overhead, not an app's build time).

const fixtures = path.resolve("tests/fixtures/agent-output");
const workdir = "/tmp/kiln-agent-sample/work";
const cacheRoot = path.join(fs.existsSync("/var/tmp") ? "/var/tmp" : os.tmpdir(), "kiln-toolchains-cache");
const secret = "whsec_bench-runner-secret-0123";

function thousandLines(file: string): string[] {
  const sample = fs.readFileSync(path.join(fixtures, file), "utf8").split("\n").filter(Boolean);
  const lines: string[] = [];
  while (lines.length < 1_000) lines.push(...sample);
  return lines.slice(0, 1_000);
}

async function wholeRun(root: string): Promise<() => Promise<void>> {
  const codex = await ensureToolchain({ cacheRoot, agent: "codex" });
  const bundle = await buildRunnerBundle(path.join(root, "bundle"));
  const template = path.join(root, "template");
  fs.mkdirSync(template);
  fs.writeFileSync(
    path.join(template, "package.json"),
    JSON.stringify({
      name: "bench-app",
      private: true,
      scripts: { migrate: "node -e 0", build: "node -e 0" },
    }),
  );
  const sandboxes = createLocalSandboxes({ root: path.join(root, "sandboxes"), hidePaths: [cacheRoot] });
  return async () => {
    const gateway = await startModelServer({
      scenario: {
        name: "bench",
        turns: [
          { when: { step: 0 }, reply: { kind: "shell", command: "echo hi > hello.txt" } },
          { reply: { kind: "text", text: "done" } },
        ],
      },
    });
    const hook = await startWebhookReceiver({ secret });
    const sandbox = await sandboxes.create({
      name: "bench-runner",
      source: { kind: "directory", path: template },
      ports: [],
      env: {},
      timeoutMs: 5 * 60_000,
      readOnlyPaths: [codex.dir],
    });
    try {
      const home = (await sandbox.run({ cmd: "sh", args: ["-c", 'printf %s "$HOME"'] })).stdout;
      const spec = {
        runId: `run_bench_${Date.now()}`,
        revisionId: "rev",
        agent: "codex",
        prompt: "write hello.txt",
        model: "gpt-5.5",
        gatewayBaseUrl: gateway.url,
        runToken: "krt_bench",
        webhookUrl: hook.url,
        webhookSecret: secret,
        databaseUrl: "file:app.db",
        workdir: sandbox.workdir,
        agentHome: home,
        binPath: codex.binPath,
        steps: { migrate: true, build: true, commit: true, preview: false },
      };
      await sandbox.writeFiles([
        { path: ".kiln/runner.mjs", content: fs.readFileSync(bundle.file) },
        { path: ".kiln/run.json", content: JSON.stringify(spec) },
      ]);
      const result = await sandbox.run({
        cmd: "node",
        args: [path.join(sandbox.workdir, ".kiln/runner.mjs"), path.join(sandbox.workdir, ".kiln/run.json")],
      });
      if (result.exitCode !== 0) throw new Error(`the runner failed: ${result.stderr.slice(-1_000)}`);
      if (!hook.events().some((event) => event.type === "runner.finished"))
        throw new Error("no runner.finished");
    } finally {
      await sandbox.stop();
      await Promise.all([gateway.close(), hook.close()]);
    }
  };
}

export async function run(): Promise<BenchRow[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-runner-"));
  const codexLines = thousandLines("codex-tools.jsonl");
  const claudeLines = thousandLines("claude-tools.jsonl");
  const hook = await startWebhookReceiver({ secret });
  try {
    const rows = [
      await measure(
        "[runner] normalize 1,000 Codex JSONL lines",
        30,
        async () => {
          const normalizer = createCodexNormalizer({ workdir });
          for (const line of codexLines) normalizer.push(line);
        },
        { goal: "≤ 20 ms" },
      ),
      await measure(
        "[runner] normalize 1,000 Claude Code stream-json lines",
        30,
        async () => {
          const normalizer = createClaudeNormalizer({ workdir });
          for (const line of claudeLines) normalizer.push(line);
        },
        { goal: "≤ 30 ms" },
      ),
      await measure(
        "[runner] post 2,000 events (4 signed batches, verified) and flush",
        10,
        async (i) => {
          const poster = createEventPoster({
            runId: `run_bench_poster_${i + 10}`,
            webhookUrl: hook.url,
            secret,
          });
          for (let n = 0; n < 2_000; n++) {
            poster.post({
              type: "runner.output",
              payload: {
                step: "verify",
                stream: "stdout",
                text: `  ✓ Compiled /page ${n} in 812ms (1532 modules)\n`,
              },
            });
          }
          await poster.close();
          if (poster.stats.sent !== 2_000) throw new Error(`sent ${poster.stats.sent} of 2000`);
        },
        { goal: "≤ 250 ms" },
      ),
      await measure("[runner] buildRunnerBundle (esbuild, output cached)", 10, () =>
        buildRunnerBundle(path.join(root, "bundle-bench")),
      ),
      await measure(
        "[runner] whole run in a local sandbox: codex turn, migrate, build, commit",
        5,
        await wholeRun(root),
        {
          warmup: 1,
        },
      ),
    ];
    return rows;
  } finally {
    await hook.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
