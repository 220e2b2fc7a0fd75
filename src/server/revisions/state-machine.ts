// The revision's vocabulary: its steps and statuses. Plain data, shared by the event protocol, the pipeline, the
// runner bundle and the browser.
export const stepNames = [
  "plan",
  "provision",
  "generate",
  "migrate",
  "preview",
  "verify",
  "commit",
  "deploy",
] as const;
export type StepName = (typeof stepNames)[number];

/**
 * The revision state machine. A revision moves forward through the running states (a step may be skipped, e.g. a
 * restore goes from provisioning straight to previewing) and ends in exactly one terminal state, which never changes.
 * The preview comes before verify: the dev server serves the agent's work while the production build checks it,
 * and `finished` still needs verify passed and the commit made (docs/pipeline.md "Revision state machine").
 */
export const runningStatuses = [
  "queued",
  "planning",
  "provisioning",
  "generating",
  "migrating",
  "previewing",
  "verifying",
  "committing",
  "deploying",
] as const;

export const terminalStatuses = ["finished", "failed", "cancelled"] as const;

export const revisionStatuses = [...runningStatuses, ...terminalStatuses] as const;
export type RevisionStatus = (typeof revisionStatuses)[number];

export type RunningStatus = (typeof runningStatuses)[number];
export type TerminalStatus = (typeof terminalStatuses)[number];

export function isTerminal(status: string): status is TerminalStatus {
  return (terminalStatuses as readonly string[]).includes(status);
}

export function isRunning(status: string): status is RunningStatus {
  return (runningStatuses as readonly string[]).includes(status);
}

/** The step a running status stands for (queued has none). */
export const stepOfStatus: Record<RunningStatus, StepName | null> = {
  queued: null,
  planning: "plan",
  provisioning: "provision",
  generating: "generate",
  migrating: "migrate",
  previewing: "preview",
  verifying: "verify",
  committing: "commit",
  deploying: "deploy",
};

export function canTransition(from: RevisionStatus, to: RevisionStatus): boolean {
  if (isTerminal(from)) return false;
  if (isTerminal(to)) return true;
  return runningStatuses.indexOf(to) > runningStatuses.indexOf(from as RunningStatus);
}
