import { performance } from "node:perf_hooks";
import type { Revision } from "../../src/server/db/schema";
import { createFollowUp, createRestore } from "../../src/server/revisions/create-revision";
import { isTerminal } from "../../src/server/revisions/state-machine";
import { type PipelineHarness, startPipelineHarness } from "../../tests/helpers/pipeline-harness";
import { testPreviewOrigins } from "../../tests/helpers/public-site";
import { type BenchRow, percentile } from "./stats";

// What an operator waits for, on local adapters with the scripted zero-latency model and the real Codex CLI, each
// run a new project: Create → the preview shows the app; → the checkpoint is finished (migrated, verified,
// committed, deployed); its follow-up → the updated preview; a restore of checkpoint 1 → finished. Times are wall
// clock from the moment the platform is asked, observed as the operator would: the revision's preview URL answering
// 200, its status turning finished. The breakdown rows come from the revision's own events (one machine, one clock)
// and say which part is the agent CLI, the app's own tools, and the platform.

const RUNS = 3;
const POLL_MS = 100;

type Milestones = { previewMs: number; finishedMs: number };

type EventRow = { type: string; payload: string; created_at: number };

function payloadOf(row: EventRow): Record<string, unknown> {
  const value: unknown = JSON.parse(row.payload);
  return typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {};
}

/** When the first event matching the type and payload fields happened; NaN when there is none. */
function at(rows: EventRow[], type: string, fields: Record<string, unknown> = {}): number {
  const row = rows.find(
    (candidate) =>
      candidate.type === type &&
      Object.entries(fields).every(([name, value]) => payloadOf(candidate)[name] === value),
  );
  return row ? Number(row.created_at) : Number.NaN;
}

type Phases = Record<"provision" | "agent" | "migrate" | "build" | "devServer" | "deploy", number>;

async function phasesOf(h: PipelineHarness, revisionId: string): Promise<Phases> {
  const rows = await h.db
    .selectFrom("event")
    .select(["type", "payload", "created_at"])
    .where("revision_id", "=", revisionId)
    .orderBy("seq")
    .orderBy("id")
    .execute();
  const runner = (step: string, status: string) => at(rows, "runner.step", { step, status, attempt: 1 });
  const platform = (step: string, status: string) => at(rows, `step.${status}`, { step });
  return {
    provision: platform("provision", "finished") - platform("provision", "started"),
    agent: runner("generate", "finished") - runner("generate", "started"),
    migrate: runner("migrate", "finished") - runner("migrate", "started"),
    build: runner("verify", "finished") - runner("verify", "started"),
    devServer: at(rows, "runner.preview") - runner("preview", "started"),
    deploy: platform("deploy", "finished") - platform("deploy", "started"),
  };
}

async function answers200(url: string): Promise<boolean> {
  try {
    const page = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    await page.arrayBuffer();
    return page.status === 200;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

/**
 * Watches a revision from `start` (performance.now()) until it is finished: when its preview URL first answered
 * 200 and when it finished. Throws for a revision that ends otherwise.
 */
async function watch(h: PipelineHarness, revisionId: string, start: number): Promise<Milestones> {
  const deadline = Date.now() + 600_000;
  let previewMs: number | undefined;
  for (;;) {
    const revision: Revision = await h.revision(revisionId);
    if (previewMs === undefined && revision.preview_url && (await answers200(revision.preview_url))) {
      previewMs = performance.now() - start;
    }
    if (isTerminal(revision.status)) {
      if (revision.status !== "finished") {
        throw new Error(`the checkpoint ended ${revision.status}: ${revision.error_message ?? ""}`);
      }
      const finishedMs = performance.now() - start;
      return { previewMs: previewMs ?? finishedMs, finishedMs };
    }
    if (Date.now() > deadline) throw new Error(`revision ${revisionId} still ${revision.status}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

type Iteration = {
  build: Milestones & { phases: Phases };
  followUp: Milestones & { phases: Phases };
  restore: Milestones & { phases: Phases };
};

async function stopSandboxOf(h: PipelineHarness, revisionId: string): Promise<void> {
  await (await h.sandboxOf(await h.revision(revisionId)))?.stop();
}

/** A new project's first build, its follow-up "add a username field", then a restore of checkpoint 1. */
async function iterate(h: PipelineHarness): Promise<Iteration> {
  h.switchScenarios(["plan-todo", "codex-todo-app"]);
  const buildStart = performance.now();
  const created = await h.createProject("build a todo app");
  await h.run(created.revision.id);
  const build = await watch(h, created.revision.id, buildStart);

  h.switchScenarios(["codex-add-username"]);
  const followUpStart = performance.now();
  const followUp = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
    projectId: created.project.id,
    taskId: created.task.id,
    prompt: "add a username field",
  });
  await h.run(followUp.id);
  const followed = await watch(h, followUp.id, followUpStart);

  const restoreStart = performance.now();
  const restore = await createRestore(h.db, testPreviewOrigins, h.userId, created.revision.id);
  await h.run(restore.id);
  const restored = await watch(h, restore.id, restoreStart);

  for (const id of [created.revision.id, followUp.id, restore.id]) await stopSandboxOf(h, id);
  return {
    build: { ...build, phases: await phasesOf(h, created.revision.id) },
    followUp: { ...followed, phases: await phasesOf(h, followUp.id) },
    restore: { ...restored, phases: await phasesOf(h, restore.id) },
  };
}

function row(name: string, values: number[], goal?: string): BenchRow {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return {
    name,
    runs: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    unit: "ms",
    goal,
  };
}

export async function run(): Promise<BenchRow[]> {
  const h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"], deploy: true });
  try {
    console.error("… [pipeline] warm-up iteration");
    await iterate(h);
    const runs: Iteration[] = [];
    for (let i = 0; i < RUNS; i++) {
      console.error(`… [pipeline] iteration ${i + 1}/${RUNS}`);
      runs.push(await iterate(h));
    }
    const phase = (part: keyof Iteration, name: keyof Phases) => runs.map((r) => r[part].phases[name]);
    return [
      row(
        "[pipeline] new project → preview answers 200 (Codex, scripted model, local adapters)",
        runs.map((r) => r.build.previewMs),
        "≤ 15 s",
      ),
      row(
        "[pipeline] new project → finished (verified, committed, deployed)",
        runs.map((r) => r.build.finishedMs),
        "≤ 30 s",
      ),
      row(
        "[pipeline] follow-up → updated preview answers 200",
        runs.map((r) => r.followUp.previewMs),
        "≤ 8 s",
      ),
      row(
        "[pipeline] follow-up → finished",
        runs.map((r) => r.followUp.finishedMs),
      ),
      row(
        "[pipeline] restore → finished",
        runs.map((r) => r.restore.finishedMs),
        "≤ 10 s",
      ),
      row("[pipeline]   new project: provision", phase("build", "provision")),
      row("[pipeline]   new project: agent CLI turn (runner)", phase("build", "agent")),
      row("[pipeline]   new project: npm run migrate (runner)", phase("build", "migrate")),
      row("[pipeline]   new project: next build (runner's verify)", phase("build", "build")),
      row("[pipeline]   new project: dev server → first 200 (runner)", phase("build", "devServer")),
      row("[pipeline]   new project: deploy", phase("build", "deploy")),
      row("[pipeline]   follow-up: provision", phase("followUp", "provision")),
      row("[pipeline]   follow-up: agent CLI turn (runner)", phase("followUp", "agent")),
      row("[pipeline]   follow-up: dev server → first 200 (runner)", phase("followUp", "devServer")),
      row("[pipeline]   restore: provision", phase("restore", "provision")),
      row("[pipeline]   restore: deploy", phase("restore", "deploy")),
    ];
  } finally {
    await h.close();
  }
}
