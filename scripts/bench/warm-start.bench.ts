import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createLocalSandboxes } from "../../src/server/integrations/sandboxes/local";
import { startDevServer } from "../../src/server/templates/dev-server";
import { createTemplateSandbox } from "../../src/server/templates/template-sandbox";
import { templateFiles } from "../../src/server/templates/template-version";
import { TEMPLATE_DIR, templateCache } from "../../tests/helpers/template";
import { type BenchRow, percentile } from "./stats";

// Sandbox → first 200 from `next dev`: from the warm template cache (sources copied, node_modules hard-linked),
// against a cold start that runs `npm ci` inside the sandbox first. Goal for warm: ≤ 5 s on this 2-core machine.

const WARM_RUNS = 5;

function row(name: string, samples: number[], goal?: string): BenchRow {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    name,
    runs: samples.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    unit: "ms",
    goal,
  };
}

export async function run(): Promise<BenchRow[]> {
  const cache = await templateCache();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-warm-"));
  const sandboxes = createLocalSandboxes({ root });
  try {
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const start = performance.now();
      const sandbox = await createTemplateSandbox(sandboxes, cache, {
        name: `bench-warm-${i}`,
        env: {},
        timeoutMs: 600_000,
        app: { name: `Bench ${i}` },
      });
      await startDevServer(sandbox, { timeoutMs: 180_000 });
      warm.push(performance.now() - start);
      await sandbox.stop();
    }

    const coldStart = performance.now();
    const cold = await sandboxes.create({
      name: "bench-cold",
      source: { kind: "empty" },
      ports: [3000],
      env: {},
      timeoutMs: 900_000,
    });
    const files = await templateFiles(TEMPLATE_DIR);
    await cold.writeFiles(
      files.map((file) => ({ path: file, content: fs.readFileSync(path.join(TEMPLATE_DIR, file)) })),
    );
    const installed = await cold.run({
      cmd: "npm",
      args: ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    });
    if (installed.exitCode !== 0) throw new Error(`cold npm ci failed: ${installed.stderr.slice(-500)}`);
    await startDevServer(cold, { timeoutMs: 300_000 });
    const coldMs = performance.now() - coldStart;
    await cold.stop();

    const warmRow = row("template sandbox → first 200 from next dev (warm cache)", warm, "≤ 5 s");
    const coldRow = row(
      `template sandbox → first 200 (cold npm ci; ${(coldMs / warmRow.p50).toFixed(1)}× the warm p50)`,
      [coldMs],
    );
    return [warmRow, coldRow];
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
