import { performance } from "node:perf_hooks";
import { type PipelineHarness, startPipelineHarness } from "../../tests/helpers/pipeline-harness";
import { type BenchRow, measure, percentile } from "./stats";

// Prompt → first preview 200, the whole pipeline on local adapters with the scripted zero-latency model: plan,
// provision (git repo, libSQL branch, warm bubblewrap sandbox), the runner (real Codex CLI, migrate, `next build`,
// commit bundle, `next dev`), the webhook driving the revision to "finished" with a preview URL that answers 200.
// Wall time from runRevision until then; each run is a new project. The breakdown comes from the revision's own
// events (runner events carry the sandbox's clock, platform events the platform's: one machine, one clock), so it
// says which part is the agent CLI, which is the app's own build and dev server, and which is the platform.

const RUNS = 3;

type Phases = {
  plan: number;
  provision: number;
  runnerStart: number;
  agent: number;
  migrate: number;
  build: number;
  devServer: number;
  platformTail: number;
};

type Sample = { totalMs: number; phases: Phases };

type EventRow = { type: string; payload: string; created_at: number; sandbox_id: string | null };

function payloadOf(row: EventRow): Record<string, unknown> {
  const value: unknown = JSON.parse(row.payload);
  return typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {};
}

/** When the first event matching the type and payload fields happened. */
function at(rows: EventRow[], type: string, fields: Record<string, unknown> = {}): number {
  const row = rows.find(
    (candidate) =>
      candidate.type === type &&
      Object.entries(fields).every(([name, value]) => payloadOf(candidate)[name] === value),
  );
  if (!row) throw new Error(`no ${type} ${JSON.stringify(fields)} event`);
  return Number(row.created_at);
}

async function phasesOf(h: PipelineHarness, revisionId: string): Promise<Phases> {
  const rows = await h.db
    .selectFrom("event")
    .select(["type", "payload", "created_at", "sandbox_id"])
    .where("revision_id", "=", revisionId)
    .orderBy("seq")
    .orderBy("id")
    .execute();
  const runnerStep = (step: string, status: string) => at(rows, "runner.step", { step, status, attempt: 1 });
  const firstRunnerEvent = rows.find((row) => row.sandbox_id !== null);
  if (!firstRunnerEvent) throw new Error("no runner event");
  return {
    plan: at(rows, "step.finished", { step: "plan" }) - at(rows, "step.started", { step: "plan" }),
    provision:
      at(rows, "step.finished", { step: "provision" }) - at(rows, "step.started", { step: "provision" }),
    runnerStart: Number(firstRunnerEvent.created_at) - at(rows, "step.finished", { step: "provision" }),
    agent: runnerStep("generate", "finished") - runnerStep("generate", "started"),
    migrate: runnerStep("migrate", "finished") - runnerStep("migrate", "started"),
    build: runnerStep("verify", "finished") - runnerStep("verify", "started"),
    devServer: at(rows, "runner.preview") - runnerStep("preview", "started"),
    platformTail: at(rows, "revision.status", { status: "finished" }) - at(rows, "runner.preview"),
  };
}

async function buildOnce(h: PipelineHarness, samples: Sample[]): Promise<void> {
  const created = await h.createProject("build a todo app");
  const start = performance.now();
  await h.run(created.revision.id);
  const revision = await h.waitFor(created.revision.id, (current) => current.status === "finished", 300_000);
  if (revision.status !== "finished" || !revision.preview_url) {
    throw new Error(`the build ended ${revision.status}: ${revision.error_message ?? "no preview URL"}`);
  }
  const page = await fetch(revision.preview_url, { signal: AbortSignal.timeout(30_000) });
  await page.arrayBuffer();
  if (page.status !== 200) throw new Error(`the preview answered ${page.status}`);
  const totalMs = performance.now() - start;
  samples.push({ totalMs, phases: await phasesOf(h, revision.id) });
  await (await h.sandboxOf(revision))?.stop();
}

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

export async function run(): Promise<BenchRow[]> {
  const h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"] });
  try {
    const samples: Sample[] = [];
    const warmup: Sample[] = [];
    const total = await measure(
      "[pipeline] prompt → first preview 200 (Codex, scripted model, local adapters)",
      RUNS,
      (i) => buildOnce(h, i < 0 ? warmup : samples),
      { warmup: 1 },
    );
    const phase = (name: keyof Phases) => samples.map((sample) => sample.phases[name]);
    // What the app and the agent take on their own; the rest is the platform's doing.
    const appAndAgent = samples.map(
      (sample) => sample.phases.agent + sample.phases.migrate + sample.phases.build + sample.phases.devServer,
    );
    return [
      total,
      row(
        "[pipeline]   platform overhead (total − agent − migrate − build − dev server)",
        samples.map((sample, i) => sample.totalMs - (appAndAgent[i] ?? 0)),
        "≤ 8 s",
      ),
      row("[pipeline]   plan (planner call to the scripted model)", phase("plan")),
      row("[pipeline]   provision (repo, db branch, warm sandbox)", phase("provision")),
      row("[pipeline]   runner start (bundle + spec written, first event)", phase("runnerStart")),
      row("[pipeline]   agent CLI turn (Codex, 7 zero-latency calls)", phase("agent")),
      row("[pipeline]   npm run migrate", phase("migrate")),
      row("[pipeline]   next build", phase("build")),
      row("[pipeline]   next dev → first 200 (runner)", phase("devServer")),
      row("[pipeline]   runner.preview → finished (platform health check)", phase("platformTail")),
    ];
  } finally {
    await h.close();
  }
}
