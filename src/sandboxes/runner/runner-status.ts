import { z } from "zod";

/**
 * What the runner leaves in its working directory when not one of its events reached the platform: the platform
 * cannot hear it any other way, so it reads this file from the sandbox (src/server/maintenance/unreachable-runners.ts)
 * and fails the revision with the cause instead of waiting for silence. The agent runs as the same user and could
 * write the file too: the platform believes it only while no event of the run has arrived, and caps what it shows.
 */
export const runnerStatusFile = ".kiln/runner-status.json";

export const runnerStatusSchema = z.object({
  state: z.literal("unreachable"),
  /** The webhook URL the runner posted to (in a contained local sandbox: its door to the platform). */
  url: z.string().max(2_048),
  /** The last delivery failure: a network error, or the HTTP status and the first line of the answer. */
  error: z.string().max(2_000),
  /** When the runner gave up (its clock). */
  at: z.number().int().nonnegative(),
});

export type RunnerStatus = z.infer<typeof runnerStatusSchema>;
