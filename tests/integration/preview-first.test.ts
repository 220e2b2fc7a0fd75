import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Revision } from "@/server/db/schema";
import { createFollowUp } from "@/server/revisions/create-revision";
import { isTerminal } from "@/server/revisions/state-machine";
import type { ScenarioInput } from "../fakes/model-server";
import { type PipelineHarness, startPipelineHarness, statusesOf } from "../helpers/pipeline-harness";
import { testPreviewOrigins } from "../helpers/public-site";

// Preview first, verify beside it (issue 13): the app's dev server starts with the run and is warm by the time the
// agent is done, so the checkpoint's preview answers while `next build` verifies it. What a user sees is checked by
// watching the revision as the workspace does: its preview URL, and what that URL answers, status by status.
// Correctness is not traded: finished still comes only after verify passed and the commit exists.

/** What a watcher saw of the revision while it ran. */
type Watched = {
  /** Each status in which the revision showed a preview URL, with what that URL answered then (first look). */
  previewWhile: Array<{ status: string; page: number; text: string }>;
  /** When the preview URL was first seen, ms after the revision was created (the operator's prompt). */
  previewAfterMs: number | null;
  end: Revision;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function look(url: string): Promise<{ page: number; text: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { page: response.status, text: (await response.text()).toLowerCase() };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { page: 0, text: error.message };
  }
}

/** Polls the revision every 100 ms until it ends, looking at its preview once in each status that shows one. */
async function watch(h: PipelineHarness, revisionId: string, timeoutMs = 600_000): Promise<Watched> {
  const previewWhile: Watched["previewWhile"] = [];
  let previewAfterMs: number | null = null;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const revision = await h.revision(revisionId);
    if (revision.preview_url && !isTerminal(revision.status)) {
      previewAfterMs ??= Date.now() - revision.created_at;
      if (!previewWhile.some((seen) => seen.status === revision.status)) {
        previewWhile.push({ status: revision.status, ...(await look(revision.preview_url)) });
      }
    }
    if (isTerminal(revision.status)) return { previewWhile, previewAfterMs, end: revision };
    if (Date.now() > deadline) throw new Error(`revision ${revisionId} still ${revision.status}`);
    await sleep(100);
  }
}

/** The run's steps as `step:status:attempt`, with ms since the prompt: the timeline the report quotes. */
async function timeline(h: PipelineHarness, revision: Revision): Promise<string[]> {
  const rows = await h.db
    .selectFrom("event")
    .select(["type", "payload", "created_at"])
    .where("revision_id", "=", revision.id)
    .orderBy("seq")
    .orderBy("id")
    .execute();
  return rows.flatMap((row) => {
    const at = `${((row.created_at - revision.created_at) / 1000).toFixed(1)}s`;
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    if (row.type === "runner.step" || row.type === "step.started" || row.type === "step.finished")
      return [`${at} ${row.type} ${String(payload.step)}:${String(payload.status ?? "")}`];
    if (row.type === "runner.preview" || row.type === "revision.status")
      return [`${at} ${row.type} ${String(payload.status ?? "")}`];
    return [];
  });
}

/** A first page with a type error: it renders in the dev server, and `next build` refuses it once. */
const typeErrorFixedOnce: ScenarioInput = {
  name: "codex-type-error-fixed-once",
  turns: [
    {
      when: { promptContains: "failed with this error", step: 0 },
      reply: {
        kind: "write",
        path: "src/app/page.tsx",
        content:
          'export const dynamic = "force-dynamic";\n\nexport default function HomePage() {\n  const count: number = 3;\n  return <main><h1>Todo count</h1><p>{"Fixed count: " + count}</p></main>;\n}\n',
        say: "Fixing the type of the count.",
      },
    },
    {
      when: { promptContains: "failed with this error" },
      reply: { kind: "text", text: "The count is a number now; the build passes." },
    },
    {
      when: { step: 0 },
      reply: {
        kind: "write",
        path: "src/app/page.tsx",
        content:
          'export const dynamic = "force-dynamic";\n\nexport default function HomePage() {\n  const count: number = "three";\n  return <main><h1>Todo count</h1><p>Broken count: {count}</p></main>;\n}\n',
        say: "Writing the first page.",
      },
    },
    { reply: { kind: "text", text: "The page shows the todo count." } },
  ],
};

describe("preview first, verify beside it", { timeout: 900_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({ scenarios: ["plan-todo", "codex-todo-app"] });
  });

  afterAll(async () => {
    await h?.close();
  });

  let first: { projectId: string; taskId: string; revisionId: string } | undefined;

  it("a new project's preview answers with the agent's app while the build still verifies it", async () => {
    const created = await h.createProject("build a todo app");
    first = { projectId: created.project.id, taskId: created.task.id, revisionId: created.revision.id };
    const watching = watch(h, created.revision.id);
    await h.run(created.revision.id);
    const { previewWhile, previewAfterMs, end } = await watching;
    console.log(
      `new project: prompt → preview URL recorded ${previewAfterMs} ms; → finished ${(end.finished_at ?? 0) - end.created_at} ms\n${(await timeline(h, end)).join("\n")}`,
    );
    expect(h.platform.errors).toEqual([]);
    expect({ status: end.status, error: end.error_message }).toEqual({ status: "finished", error: null });
    // Seen by the operator: the preview is up, showing the todo app, before the build has passed.
    expect(previewWhile[0]).toMatchObject({ status: "verifying", page: 200 });
    expect(previewWhile[0]?.text).toContain("todo");
    expect(statusesOf(await h.events(end.id))).toEqual([
      "planning",
      "provisioning",
      "generating",
      "migrating",
      "previewing",
      "verifying",
      "committing",
      "finished",
    ]);
    // Finished still means verified and committed, and the preview keeps answering.
    expect(end.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect((await look(end.preview_url ?? "http://127.0.0.1:1")).page).toBe(200);
  });

  it("a follow-up's preview shows its change while it verifies (its dev server was started with the run)", async () => {
    if (!first) throw new Error("the first build did not run");
    h.switchScenarios(["codex-add-username"]);
    const followUp = await createFollowUp(h.db, testPreviewOrigins, h.userId, {
      projectId: first.projectId,
      taskId: first.taskId,
      prompt: "add a username field",
    });
    const watching = watch(h, followUp.id);
    await h.run(followUp.id);
    const { previewWhile, previewAfterMs, end } = await watching;
    console.log(
      `follow-up: prompt → preview URL recorded ${previewAfterMs} ms; → finished ${(end.finished_at ?? 0) - end.created_at} ms\n${(await timeline(h, end)).join("\n")}`,
    );
    expect({ status: end.status, error: end.error_message }).toEqual({ status: "finished", error: null });
    expect(previewWhile[0]).toMatchObject({ status: "verifying", page: 200 });
    expect(previewWhile[0]?.text).toContain("username");
  });

  it("a build that fails after the preview is up goes to the agent once; the fixed checkpoint finishes", async () => {
    h.switchScenarios(["plan-todo", typeErrorFixedOnce]);
    const created = await h.createProject("build a todo counter");
    const watching = watch(h, created.revision.id);
    await h.run(created.revision.id);
    const { previewWhile, end } = await watching;
    expect({ status: end.status, error: end.error_message }).toEqual({ status: "finished", error: null });
    // The dev server served the page with the type error (dev does not type-check) while the build refused it…
    expect(previewWhile[0]).toMatchObject({ status: "verifying", page: 200 });
    expect(previewWhile[0]?.text).toContain("broken count");
    const events = await h.events(end.id);
    const steps = events.flatMap((event) =>
      event.type === "runner.step"
        ? [`${event.payload.step}:${event.payload.status}:${event.payload.attempt}`]
        : [],
    );
    // …so the agent got the build's error once, and the same dev server hot-reloaded its fix.
    expect(steps.filter((step) => step.startsWith("generate:started"))).toEqual([
      "generate:started:1",
      "generate:started:2",
    ]);
    expect(steps).toContain("verify:failed:1");
    expect(steps).toContain("verify:finished:2");
    expect(events.filter((event) => event.type === "runner.preview")).toHaveLength(1);
    const fix = h.models
      .modelRequests()
      .find((request) => request.conversation?.prompt.includes("failed with this error"));
    expect(fix?.conversation?.prompt).toContain("not assignable to type 'number'");
    expect(end.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    const page = await look(end.preview_url ?? "http://127.0.0.1:1");
    expect(page).toMatchObject({ page: 200 });
    expect(page.text).toContain("fixed count: 3");
  });
});
