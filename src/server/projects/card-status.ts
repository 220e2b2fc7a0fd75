/**
 * What a project card says about the app. A working app whose latest follow-up failed is still live: the card reads
 * "Live" with a note, never just "Failed". A running checkpoint reads "Building" (the live version, if any, stays
 * up meanwhile). Only an app that never finished shows its last failure as the status.
 */
export type CardState = "live" | "building" | "failed" | "cancelled" | "new";

export type CardStatus = {
  state: CardState;
  /** The badge's words. */
  label: string;
  /** One line under the badge, or null: what is running, or what happened to the latest change. */
  note: string | null;
};

export type CardStatusInput = {
  /** The newest checkpoint still running (queued included), if any. */
  runningStatus: string | null;
  /** The newest checkpoint that ended, if any. */
  lastEndedStatus: string | null;
  /** Whether any checkpoint finished. */
  hasFinished: boolean;
};

// Keyed by the running statuses of revisions/state-machine.ts (not imported: revisions sits above projects).
const runningNotes: Record<string, string> = {
  queued: "Waiting to start…",
  planning: "Planning…",
  provisioning: "Provisioning…",
  generating: "Writing code…",
  migrating: "Migrating the database…",
  previewing: "Starting the preview…",
  verifying: "Verifying the build…",
  committing: "Committing…",
  deploying: "Deploying…",
};

export function deriveCardStatus({
  runningStatus,
  lastEndedStatus,
  hasFinished,
}: CardStatusInput): CardStatus {
  const lastChange =
    lastEndedStatus === "failed"
      ? "The latest change failed"
      : lastEndedStatus === "cancelled"
        ? "The latest change was cancelled"
        : null;
  if (runningStatus) {
    const step = runningNotes[runningStatus] ?? "Working…";
    return {
      state: "building",
      label: "Building",
      note: hasFinished ? `${step} The live version stays up.` : step,
    };
  }
  if (hasFinished) {
    return {
      state: "live",
      label: "Live",
      note: lastChange ? `${lastChange}; the last working version is live.` : null,
    };
  }
  if (lastEndedStatus === "failed") return { state: "failed", label: "Failed", note: null };
  if (lastEndedStatus === "cancelled") return { state: "cancelled", label: "Cancelled", note: null };
  return { state: "new", label: "New", note: null };
}
