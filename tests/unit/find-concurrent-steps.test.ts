import { describe, expect, it } from "vitest";
import { findConcurrentSteps, type StepEvent, stepStartsAfter } from "../e2e/find-concurrent-steps";

// The durability spec's "no step runs twice at once" reads the event log with this check: it must flag a real
// overlap, and let through what a crash legitimately looks like (a start that never ended, redone after a death).

let cursor = 0;
function event(at: number, type: string, payload: Record<string, unknown>, revisionId = "rev_1"): StepEvent {
  cursor += 1;
  return { cursor, at, type, revisionId, payload };
}
const started = (at: number, step: string) => event(at, "step.started", { step });
const finished = (at: number, step: string) => event(at, "step.finished", { step, durationMs: 1 });
const runner = (at: number, step: string, status: string, attempt = 1) =>
  event(at, "runner.step", { step, status, attempt });

describe("findConcurrentSteps", () => {
  it("passes a build whose steps run one after another", () => {
    const log = [
      started(1, "plan"),
      finished(2, "plan"),
      started(3, "provision"),
      finished(4, "provision"),
      started(5, "generate"),
      runner(6, "generate", "started"),
      runner(7, "generate", "finished"),
      runner(8, "verify", "started"),
      runner(9, "verify", "failed"),
      runner(10, "generate", "started", 2),
      runner(11, "generate", "finished", 2),
      event(12, "revision.status", { status: "finished" }),
    ];
    expect(findConcurrentSteps(log, [])).toEqual([]);
  });

  it("flags a step started again while it runs, on either track", () => {
    const platform = [started(1, "provision"), started(2, "provision"), finished(3, "provision")];
    expect(findConcurrentSteps(platform, [])).toHaveLength(1);
    const runnerTrack = [runner(1, "generate", "started"), runner(2, "generate", "started")];
    expect(findConcurrentSteps(runnerTrack, [])[0]).toMatch(
      /runner\.step generate started #1 .* had not ended/,
    );
  });

  it("lets a survivor redo a step whose first start died with its server, and only that", () => {
    const redo = [started(1, "generate"), runner(2, "generate", "started"), started(20, "generate")];
    redo.push(runner(21, "generate", "started"), runner(30, "generate", "finished"));
    expect(findConcurrentSteps(redo, [10])).toEqual([]);
    // Both starts before the death: two servers ran it at once.
    expect(findConcurrentSteps([started(1, "generate"), started(5, "generate")], [10])).toHaveLength(1);
  });

  it("keeps revisions apart, and a terminal status ends what was running", () => {
    const log = [
      started(1, "provision"),
      event(2, "step.started", { step: "provision" }, "rev_2"),
      event(3, "revision.status", { status: "failed" }),
      started(4, "provision"),
    ];
    expect(findConcurrentSteps(log, [])).toEqual([]);
  });
});

describe("stepStartsAfter", () => {
  it("finds a step started after a moment on either track", () => {
    const log = [started(1, "generate"), runner(2, "generate", "started"), runner(20, "generate", "started")];
    expect(stepStartsAfter(log, "generate", 10).map((e) => e.at)).toEqual([20]);
    expect(stepStartsAfter(log, "commit", 0)).toEqual([]);
  });
});
