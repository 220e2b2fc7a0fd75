import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  type PreparationOutcome,
  preparationOrder,
  prepareCaches,
} from "../../src/server/preparation/prepare-caches";
import { isTerminal } from "../../src/server/revisions/state-machine";
import { templateCacheState } from "../../src/server/templates/template-cache";
import { templateVersion } from "../../src/server/templates/template-version";
import { findToolchain } from "../../src/server/toolchains/install";
import { toolchainSpec } from "../../src/server/toolchains/toolchain-spec";
import { startPipelineHarness } from "../../tests/helpers/pipeline-harness";
import { TEMPLATE_DIR } from "../../tests/helpers/template";
import { type BenchRow, percentile } from "./stats";

// A fresh install's first project: empty template and toolchain caches and an empty npm cache; Kiln's boot
// preparation (prepareCaches with the agents in boot order, what startBootPreparation runs) started, and as soon as it
// holds its first installs' locks (a fraction of a second: a server needs longer than that to boot and serve a
// Create), a new project created and built (Codex, scripted zero-latency model, local adapters), to its preview URL
// answering 200. Timed from the preparation's start: the worst case for an operator, Create right at boot with
// nothing installed yet. Each run says so if the build did not join the preparation's installs (three installs,
// all the preparation's). The rows beside it: when the template's dependencies and the Codex CLI were complete on
// disk.

const RUNS = 3;

type Sample = { previewMs: number; templateMs: number; codexMs: number };

function row(name: string, values: number[], goal?: string): BenchRow {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    name,
    runs: values.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    unit: "ms",
    goal,
  };
}

/** Polls the preview until it answers 200 (a preview may be announced a moment before it serves), bounded. */
async function answers200(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    await page.arrayBuffer();
    if (page.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the preview still answers ${page.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Until the preparation holds the template's and Codex's install locks (its first step of each). */
async function waitForLocks(templateCacheRoot: string, toolchainsRoot: string): Promise<void> {
  const version = await templateVersion(TEMPLATE_DIR);
  const locks = [
    path.join(templateCacheRoot, `.lock-${path.basename(TEMPLATE_DIR)}-${version}`),
    path.join(toolchainsRoot, `.lock-codex-${toolchainSpec("codex").version}`),
  ];
  const deadline = Date.now() + 30_000;
  while (!locks.every((lock) => fs.existsSync(lock))) {
    if (Date.now() > deadline) throw new Error("the preparation took no install lock in 30 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function coldOnce(): Promise<Sample> {
  // The template cache beside the sandboxes' data dir (same filesystem: sandboxes hard-link from it), the toolchains
  // outside /tmp as the other pipeline tests keep them; each run's own, empty.
  const templateCacheRoot = fs.mkdtempSync("/tmp/kiln-cold-templates-");
  const toolchainsRoot = fs.mkdtempSync("/var/tmp/kiln-cold-toolchains-");
  const npmCache = fs.mkdtempSync("/var/tmp/kiln-cold-npm-cache-");
  const preparationDir = path.join(templateCacheRoot, ".preparation");
  const previousNpmCache = process.env.npm_config_cache;
  process.env.npm_config_cache = npmCache;
  const h = await startPipelineHarness({
    scenarios: ["plan-todo", "codex-todo-app"],
    templateCacheRoot,
    toolchainsRoot,
  });
  let preparation: Promise<PreparationOutcome> | undefined;
  try {
    const start = performance.now();
    const prepLog: string[] = [];
    preparation = prepareCaches({
      templateDir: TEMPLATE_DIR,
      templateCacheRoot,
      toolchainsRoot,
      preparationDir,
      agents: preparationOrder,
      log: (message) => prepLog.push(message),
    });
    // When each cache became complete on disk, whoever finished it.
    const ready: { template?: number; codex?: number } = {};
    let watching = true;
    const watch = (async () => {
      while (watching && (ready.template === undefined || ready.codex === undefined)) {
        if (
          ready.template === undefined &&
          (await templateCacheState(TEMPLATE_DIR, templateCacheRoot)) === "ready"
        )
          ready.template = performance.now() - start;
        if (ready.codex === undefined && (await findToolchain(toolchainsRoot, "codex")))
          ready.codex = performance.now() - start;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // A server takes a moment to boot before it serves a Create; by then the preparation holds its installs' locks.
    await waitForLocks(templateCacheRoot, toolchainsRoot);
    const created = await h.createProject("build a todo app");
    await h.run(created.revision.id);
    const revision = await h.waitFor(created.revision.id, (current) => current.preview_url !== null, 600_000);
    if (!revision.preview_url || (isTerminal(revision.status) && revision.status !== "finished")) {
      throw new Error(`the build ended ${revision.status}: ${revision.error_message ?? "no preview URL"}`);
    }
    await answers200(revision.preview_url);
    const previewMs = performance.now() - start;
    const outcome = await preparation;
    watching = false;
    await watch;
    if (outcome.failed.length > 0) throw new Error(`the preparation failed: ${outcome.failed.join(", ")}`);
    // The build joined the preparation's installs and ran none of its own (said, not thrown: the figures count).
    const installs = prepLog.filter((line) => line.startsWith("Installing")).length;
    if (installs !== 3)
      console.error(`  the preparation ran ${installs} of 3 installs: ${prepLog.join(" | ")}`);
    return { previewMs, templateMs: ready.template ?? Number.NaN, codexMs: ready.codex ?? Number.NaN };
  } finally {
    // Never rejects (failures are in its outcome); the caches go only once nothing installs into them.
    if (preparation) await preparation;
    await h.close();
    if (previousNpmCache === undefined) delete process.env.npm_config_cache;
    else process.env.npm_config_cache = previousNpmCache;
    for (const dir of [templateCacheRoot, toolchainsRoot, npmCache])
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

export async function run(): Promise<BenchRow[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sample = await coldOnce();
    console.error(
      `  cold run ${i + 1}: preview ${(sample.previewMs / 1000).toFixed(1)} s (template ready ${(sample.templateMs / 1000).toFixed(1)} s, Codex ready ${(sample.codexMs / 1000).toFixed(1)} s)`,
    );
    samples.push(sample);
  }
  return [
    row(
      "[pipeline-cold] boot → first preview 200, Create right at boot (empty template, toolchain and npm caches; Codex, scripted model, local adapters)",
      samples.map((sample) => sample.previewMs),
      "≤ 60 s",
    ),
    row(
      "[pipeline-cold]   boot preparation: the template's dependencies ready",
      samples.map((sample) => sample.templateMs),
    ),
    row(
      "[pipeline-cold]   boot preparation: the Codex CLI ready",
      samples.map((sample) => sample.codexMs),
    ),
  ];
}
