import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Revision } from "@/server/db/schema";
import type { StepName } from "@/server/events/schema";
import { DEFAULT_HEADERS_TIMEOUT_MS } from "@/server/gateway/proxy";
import { reconcileSilentRevisions } from "@/server/maintenance/reconciler";
import { revisionsToRecover } from "@/server/maintenance/recover-revisions";
import { carryOn, needsCarryOn } from "@/server/pipeline/carry-on";
import { runRevision } from "@/server/pipeline/run-revision";
import {
  type PipelineHarness,
  type RevisionEvent,
  startPipelineHarness,
  statusesOf,
} from "../helpers/pipeline-harness";
import { startPipelinePlatform } from "../helpers/pipeline-platform";

// What goes wrong in a real run, each on the real pipeline (real Codex or Claude Code, bubblewrap sandbox, the
// gateway, the webhook): every fault must end the revision in a terminal state with a reason an operator can act
// on, keep what happened (events stored, in order), and leave no sandbox that cannot be stopped.

const UPSTREAM_HEADERS_TIMEOUT_MS = 2_000;
/** The reconciler's silence window in these cases (the real one is 10 minutes). */
const SILENCE_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Nothing has happened since `since` (the kill, the restart) and no sign of life came from the revision (the
 * webhook's heartbeat, or its last update before any) for longer than the reconciler's window.
 */
function silentSince(since: number): (revision: Revision) => boolean {
  return (revision) =>
    Date.now() - Math.max(since, Number(revision.heartbeat_at ?? revision.updated_at)) > SILENCE_MS;
}

describe("pipeline faults, end to end on local adapters", { timeout: 600_000 }, () => {
  let h: PipelineHarness;

  beforeAll(async () => {
    h = await startPipelineHarness({
      scenarios: ["plan-todo", "codex-todo-app"],
      // The real gateway waits 5 minutes for a vendor's headers; the hang case needs to see it give up.
      platform: { gateway: { upstreamHeadersTimeoutMs: UPSTREAM_HEADERS_TIMEOUT_MS } },
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    // Each case answers for its own unexpected errors only.
    h.platform.errors.length = 0;
  });

  async function start(
    scenarios: string[],
    options: { agent?: "codex" | "claude-code"; budgetTokens?: number } = {},
  ) {
    h.switchScenarios(scenarios);
    const created = await h.createProject("build a todo app", options);
    await h.run(created.revision.id);
    return created.revision.id;
  }

  /** The common ending of every fault: failed, at `step`, for a reason, recorded, and the sandbox stoppable. */
  async function expectFailed(
    revision: Revision,
    step: StepName,
    reason: RegExp,
  ): Promise<{ events: RevisionEvent[] }> {
    const events = await h.events(revision.id);
    expect(h.platform.errors).toEqual([]);
    expect({
      status: revision.status,
      reason: revision.error_message,
      finished: revision.finished_at,
    }).toEqual({
      status: "failed",
      reason: expect.stringMatching(reason),
      finished: expect.any(Number),
    });
    // The watchers' view agrees: the last status event is the failure, with the same reason.
    const last = events.filter((event) => event.type === "revision.status").at(-1);
    expect.soft(last?.payload, "the revision.status event of the failure").toEqual({
      status: "failed",
      reason: revision.error_message,
    });
    expect.soft(statusesOf(events).filter((status) => status === "failed")).toHaveLength(1);
    if (revision.error_code !== "sandbox_silent") {
      expect(events.filter((event) => event.type === "step.failed").map((event) => event.payload)).toEqual([
        { step, reason: revision.error_message },
      ]);
    }
    // Read order is stable and complete: seqs never go backwards.
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const sandbox = await h.sandboxOf(revision);
    if (sandbox) {
      await sandbox.stop();
      expect(await h.sandboxOf(revision)).toBeNull();
    }
    return { events };
  }

  function runnerFailure(events: RevisionEvent[]) {
    return events.flatMap((event) => (event.type === "runner.failed" ? [event.payload] : []));
  }

  it("the agent's upstream refuses the operator's key (401): Codex fails its turn, the reason says so", async () => {
    const id = await start(["plan-todo", "agent-401"]);
    const revision = await h.waitForEnd(id);
    const { events } = await expectFailed(revision, "generate", /^the agent failed .*401/s);
    expect(revision.error_message).toContain("Incorrect API key provided");
    expect(runnerFailure(events)).toEqual([{ step: "generate", reason: revision.error_message }]);
    expect(events.some((event) => event.type === "agent.error")).toBe(true);
    // The operator's key is never echoed back through the failure.
    expect(JSON.stringify(events)).not.toContain(h.openaiKey);
  });

  it("the agent's upstream refuses the operator's key (401): Claude Code fails its turn too", async () => {
    const id = await start(["plan-todo", "agent-401"], { agent: "claude-code" });
    const revision = await h.waitForEnd(id);
    const { events } = await expectFailed(revision, "generate", /^the agent failed/);
    expect(revision.error_message).toMatch(/401|API key|authentication/i);
    expect(runnerFailure(events)).toEqual([{ step: "generate", reason: revision.error_message }]);
  });

  it("the model upstream answers 500 to every call: the run fails at generate once the retries are spent", async () => {
    const before = h.models.modelRequests().length;
    const id = await start(["plan-todo", "upstream-500"]);
    const revision = await h.waitForEnd(id);
    // Codex words every upstream 5xx as its own "high demand" message; the retries show in the stored events.
    const { events } = await expectFailed(
      revision,
      "generate",
      /^the agent failed \(exit code 1\): .*(500|high demand)/s,
    );
    const errors = events.flatMap((event) => (event.type === "agent.error" ? [event.payload.message] : []));
    expect(errors.filter((message) => message.startsWith("Reconnecting..."))).toHaveLength(2);
    // Bounded retries: Codex makes 3 stream attempts of 3 requests each (2 + 2 retries configured); the gateway
    // adds none.
    const agentCalls = h.models.modelRequests().length - before - 1;
    expect(agentCalls).toBeGreaterThan(0);
    expect(agentCalls).toBeLessThanOrEqual(9);
  });

  it("the model upstream hangs: the gateway gives up after its timeout and the run fails with a timeout", async () => {
    const before = h.models.modelRequests().length;
    const started = Date.now();
    const id = await start(["plan-todo", "upstream-hang"]);
    const revision = await h.waitForEnd(id);
    await expectFailed(revision, "generate", /^the agent failed .*(504|did not answer|timed? ?out)/is);
    // Each hanging call was cut by the gateway, not waited on for the real 5 minutes: the whole run took less than
    // one such wait (however slow a loaded machine makes the rest of it).
    const hung = h.models.modelRequests().length - before - 1;
    expect(hung).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(DEFAULT_HEADERS_TIMEOUT_MS);
  });

  it("the model loops on tool calls: the project's token budget stops it with 'budget exceeded'", async () => {
    const before = h.models.modelRequests().length;
    const id = await start(["plan-todo", "loop-tool-calls"], { budgetTokens: 50_000 });
    const revision = await h.waitForEnd(id);
    const { events } = await expectFailed(revision, "generate", /^budget exceeded$/);
    expect(runnerFailure(events)).toEqual([{ step: "generate", reason: "budget exceeded" }]);
    // 20,500 budgeted tokens per call: calls 1-3 pass (0, 20,500, 41,000 < 50,000), the 4th is refused by the
    // gateway and never reaches the upstream.
    const forwarded = h.models.modelRequests().length - before - 1;
    expect(forwarded).toBe(3);
    expect([Number(revision.input_tokens), Number(revision.output_tokens)]).toEqual([60_000, 1_500]);
    const usage = await h.db.selectFrom("usage").select("id").where("revision_id", "=", id).execute();
    expect(usage).toHaveLength(3);
  });

  it("the build fails twice (the agent's fix does not fix it): failed at verify with the build error", async () => {
    const id = await start(["plan-todo", "codex-build-fails-twice"]);
    const revision = await h.waitForEnd(id);
    const { events } = await expectFailed(revision, "verify", /^npm run build failed \(exit code 1\)/);
    // The reason carries the build's own error, not only "exit code 1".
    expect(revision.error_message).toMatch(/not assignable to type 'number'/);
    expect(runnerFailure(events)).toEqual([{ step: "verify", reason: revision.error_message }]);
    // One fix turn, resumed with the build's error, then both checks again.
    const steps = events.flatMap((event) => (event.type === "runner.step" ? [event.payload] : []));
    expect(steps).toContainEqual({ step: "generate", status: "started", attempt: 2 });
    expect(steps.filter((step) => step.step === "verify" && step.status === "failed")).toHaveLength(2);
    const fixPrompt = h.models
      .modelRequests()
      .find((request) => request.conversation?.prompt.includes("failed with this error"));
    expect(fixPrompt?.conversation?.prompt).toContain("not assignable to type 'number'");
    // The dev server showed the page while the build refused it (dev does not type-check); nothing was committed,
    // and the failed checkpoint shows no preview: it went with the stopped sandbox.
    expect(events.map((event) => event.type)).toContain("runner.preview");
    expect([revision.commit_sha, revision.preview_url]).toEqual([null, null]);
    expect(events.map((event) => event.type)).not.toContain("runner.committed");
  });

  it("the sandbox is killed mid-run: the reconciler fails the silent revision with a reason", async () => {
    const id = await start(["plan-todo", "slow-agent"]);
    await h.waitForEvent(id, "agent.command");
    const generating = await h.revision(id);
    expect(generating.status).toBe("generating");
    await (await h.sandboxOf(generating))?.stop();
    // Killed with SIGKILL: no runner event can follow, and nothing else will move the revision. A batch sent just
    // before the kill may still be landing, so wait (bounded) for the silence to outlast the window, not a guess.
    const silent = await h.waitFor(id, silentSince(Date.now()), 60_000);
    expect(silent.status).toBe("generating");
    expect(await reconcileSilentRevisions(h.db, { silenceMs: SILENCE_MS })).toEqual([id]);
    const revision = await h.waitForEnd(id);
    expect(revision.error_code).toBe("sandbox_silent");
    const { events } = await expectFailed(revision, "generate", /No sign of life .* while generating/);
    // What the agent did before it was killed is kept.
    expect(events.some((event) => event.type === "agent.command")).toBe(true);
  });

  it("the platform restarts mid-run: the reconciler fails the silent revision, and late events change nothing", async () => {
    // A platform of its own, so taking it away leaves the shared one to the other cases.
    const runner = h.runnerDeps;
    const first = await startPipelinePlatform({ db: h.db, credentials: h.credentials, runner });
    const port = Number(new URL(first.url).port);
    h.switchScenarios(["plan-todo", "slow-agent"]);
    const created = await h.createProject("build a todo app");
    const id = created.revision.id;
    await runRevision({ ...h.deps, publicUrl: first.url }, id);
    await h.waitForEvent(id, "agent.command");
    expect((await h.revision(id)).status).toBe("generating");

    // Down: the runner's posts and the agent's model calls fail; the revision goes silent.
    await first.close();
    await first.idle();
    const silent = await h.waitFor(id, silentSince(Date.now()), 60_000);
    expect(silent.status).toBe("generating");
    expect(await reconcileSilentRevisions(h.db, { silenceMs: SILENCE_MS })).toEqual([id]);
    const failed = await h.revision(id);
    expect(failed.error_message).toMatch(/No sign of life .* while generating: .*platform restarted/);

    // Back on the same address: the run has ended, so the webhook refuses the runner's retried batches
    // (409 conflict:run_closed) and the revision keeps the end and the reason it was given.
    const second = await startPipelinePlatform({ db: h.db, credentials: h.credentials, runner, port });
    try {
      const deadline = Date.now() + 150_000;
      while (!second.refused.includes("conflict:run_closed")) {
        if (Date.now() > deadline) throw new Error("the runner's late batches never reached the webhook");
        await sleep(500);
      }
      await second.idle();
    } finally {
      await second.close();
    }
    expect([...first.errors, ...second.errors]).toEqual([]);
    const revision = await h.revision(id);
    expect([revision.status, revision.error_code, revision.error_message, revision.finished_at]).toEqual([
      "failed",
      "sandbox_silent",
      failed.error_message,
      failed.finished_at,
    ]);
    const { events } = await expectFailed(revision, "generate", /No sign of life/);
    // Nothing the runner sent after the end was stored: its failure report was one of the refused batches.
    expect(events.filter((event) => event.type === "runner.failed")).toHaveLength(0);
    const lateFailures = events.filter(
      (event) => event.type === "step.failed" && event.payload.reason !== revision.error_message,
    );
    expect(
      lateFailures.map((event) => event.payload),
      "a step failure recorded after the revision ended",
    ).toEqual([]);
  });

  it("the planner's answer is not a plan, twice: failed at plan, before any sandbox", async () => {
    const before = h.models.modelRequests().length;
    const id = await start(["plan-invalid"]);
    const revision = await h.waitForEnd(id);
    await expectFailed(revision, "plan", /^The model's plan was not valid: .+\. Try again/);
    expect(h.models.modelRequests().length - before).toBe(2);
    expect([revision.sandbox_id, revision.db_branch_id, revision.plan]).toEqual([null, null, null]);
  });

  it("a build accepted just before the platform stopped is carried on by the recovery scan, once", async () => {
    h.switchScenarios(["plan-invalid"]);
    const stranded = await h.createProject("build a todo app");
    const fresh = await h.createProject("build a todo app");
    // Accepted two minutes ago and never started (the after-response hook died with the process).
    await h.db
      .updateTable("revision")
      .set({ updated_at: Date.now() - 120_000 })
      .where("id", "=", stranded.revision.id)
      .execute();
    const scan = () =>
      revisionsToRecover(h.db, (revision) =>
        needsCarryOn(h.db, revision, { now: Date.now(), queuedGraceMs: 60_000 }),
      );
    const carryOnDeps = {
      db: h.db,
      serverId: "test-recovery",
      pipelineDeps: async () => h.deps,
      runnerEventDeps: () => h.runnerDeps,
    };

    expect(await scan()).toEqual([stranded.revision.id]);
    expect(await carryOn(carryOnDeps, stranded.revision.id)).toBe(true);
    // It really ran: the planner was asked (and its answer failed the revision at plan, as the scenario says).
    const revision = await h.waitForEnd(stranded.revision.id);
    await expectFailed(revision, "plan", /^The model's plan was not valid/);
    // A revision queued a moment ago is its own request's to start; an ended one is never started again.
    expect((await h.revision(fresh.revision.id)).status).toBe("queued");
    expect(await scan()).toEqual([]);
  });
});
