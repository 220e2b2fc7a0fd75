import { stepActivities } from "@/components/conversation/group-events";
import type { RevisionDto } from "@/server/revisions/revision-types";
import type { StepName } from "@/server/revisions/state-machine";

// Pure: the one-click way on from a failed checkpoint. The app's own failures (its migration, build or page) go back
// to the agent with what failed; anything else (the platform, the model's vendor, a budget) is tried again as it
// was. Unit-tested in tests/unit/recovery.test.ts.

type Failed = Pick<
  RevisionDto,
  "ordinal" | "status" | "kind" | "prompt" | "restoredFromRevisionId" | "error"
>;

export type Recovery =
  | { kind: "fix"; prompt: string }
  | { kind: "retry"; prompt: string }
  | { kind: "restore-again"; revisionId: string };

/** Steps whose failure is the generated app's: the agent can fix them. */
const appSteps: ReadonlySet<StepName> = new Set(["migrate", "verify", "preview"]);

const MAX_REASON = 8_000;

export function fixItPrompt(ordinal: number, step: StepName, reason: string): string {
  return [
    `Checkpoint ${ordinal} failed: ${stepActivities[step]} failed with this error:`,
    "",
    "```",
    reason.trim().slice(-MAX_REASON),
    "```",
    "",
    "Find the cause and fix it, then run the build again to check that it passes.",
  ].join("\n");
}

/** `step` is the step that failed, as the checkpoint's events say (the step bar's). */
export function recoveryFor(revision: Failed, step: StepName | null): Recovery | null {
  if (revision.status !== "failed") return null;
  if (step && appSteps.has(step)) {
    return { kind: "fix", prompt: fixItPrompt(revision.ordinal, step, revision.error?.message ?? "") };
  }
  if (revision.kind === "restore" && revision.restoredFromRevisionId) {
    return { kind: "restore-again", revisionId: revision.restoredFromRevisionId };
  }
  return { kind: "retry", prompt: revision.prompt };
}
