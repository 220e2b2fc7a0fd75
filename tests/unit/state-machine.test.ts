import { describe, expect, it } from "vitest";
import {
  canTransition,
  isTerminal,
  revisionStatuses,
  runningStatuses,
  stepNames,
  terminalStatuses,
} from "@/server/revisions/state-machine";

describe("revision state machine", () => {
  it("moves forward through the running states, skipping steps when needed", () => {
    expect(canTransition("queued", "planning")).toBe(true);
    expect(canTransition("provisioning", "previewing")).toBe(true);
    expect(canTransition("previewing", "deploying")).toBe(true);
  });

  it("previews before it verifies and commits: a checkpoint is shown while its build runs", () => {
    expect(stepNames).toEqual([
      "plan",
      "provision",
      "generate",
      "migrate",
      "preview",
      "verify",
      "commit",
      "deploy",
    ]);
    expect(canTransition("migrating", "previewing")).toBe(true);
    expect(canTransition("previewing", "verifying")).toBe(true);
    expect(canTransition("committing", "deploying")).toBe(true);
    expect(canTransition("verifying", "previewing")).toBe(false);
    expect(canTransition("committing", "previewing")).toBe(false);
  });

  it("never moves backwards or stays put", () => {
    expect(canTransition("generating", "planning")).toBe(false);
    expect(canTransition("migrating", "migrating")).toBe(false);
  });

  it("lets any running state end in any terminal state", () => {
    for (const from of runningStatuses) {
      for (const to of terminalStatuses) expect(canTransition(from, to), `${from} → ${to}`).toBe(true);
    }
  });

  it("never changes a terminal state", () => {
    for (const from of terminalStatuses) {
      for (const to of revisionStatuses) expect(canTransition(from, to), `${from} → ${to}`).toBe(false);
    }
  });

  it("covers every status of the event protocol exactly once", () => {
    expect([...runningStatuses, ...terminalStatuses].sort()).toEqual([...revisionStatuses].sort());
    expect(revisionStatuses.filter(isTerminal)).toEqual(["finished", "failed", "cancelled"]);
  });
});
