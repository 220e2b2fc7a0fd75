import { z } from "zod";
import { agentKinds } from "../../agents/registry";

/**
 * The run spec: the JSON file the platform writes into the sandbox for one runner run (see docs/pipeline.md,
 * "Runner"). It holds the run token and the webhook secret, so the runner deletes it once read: the agent, which
 * runs as the same user, cannot read it afterwards.
 */

const absolutePath = z
  .string()
  .min(2)
  .max(4_096)
  .refine((value) => value.startsWith("/") && !value.includes("\u0000"), "must be an absolute path");

const httpUrl = z
  .string()
  .max(2_048)
  .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), "must be an http(s) URL");

const runId = z.string().regex(/^[A-Za-z0-9_-]{8,60}$/);
const webhookSecret = z.string().min(16).max(1_024);
/**
 * The first event's seq: the revision's next seq when the run starts (`nextRevisionSeq`), so the runner's events
 * sort after the platform's plan and provision events (docs/pipeline.md, "Events").
 */
const seqBase = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 40)
  .default(0);

export const runSpecSchema = z
  .object({
    /** Event ids are `<runId>-<seq>` (at most 80 characters, like the webhook's runId). */
    runId,
    seqBase,
    revisionId: z.string().min(1).max(200),
    agent: z.enum(agentKinds),
    prompt: z.string().min(1).max(100_000),
    model: z.string().min(1).max(200),
    resumeSessionId: z.string().min(1).max(128).optional(),
    gatewayBaseUrl: httpUrl,
    runToken: z.string().min(1).max(4_096),
    webhookUrl: httpUrl,
    webhookSecret,
    databaseUrl: z.string().min(1).max(4_096),
    /**
     * The project's app environment variables (secret ones included) for the app's own processes: dev server,
     * migrations, build. Never the agent's: it learns the names only (`.env.example`, its prompt).
     */
    appEnv: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/), z.string().max(32 * 1024))
      .default({}),
    /** Which of `appEnv` are secret: their values are taken out of the output the runner hands back to the agent. */
    appSecretNames: z.array(z.string().max(100)).max(1_000).default([]),
    workdir: absolutePath,
    agentHome: absolutePath,
    binPath: absolutePath,
    previewPort: z.number().int().min(1).max(65_535).optional(),
    /** Local sandboxes share the host's network: loopback. Cloud sandboxes are reached from outside: 0.0.0.0. */
    previewHost: z.enum(["127.0.0.1", "0.0.0.0"]).default("127.0.0.1"),
    steps: z.object({ migrate: z.boolean(), build: z.boolean(), commit: z.boolean(), preview: z.boolean() }),
    /**
     * Bounds, in ms. Defaults: agent turn 40 min, migrate/build 15 min each, preview's first 200 in 3 min, and 30 s
     * for a first event to reach the platform before the runner gives up (runner-status.ts).
     */
    limits: z
      .object({
        agentTurnMs: z.number().int().positive().optional(),
        stepMs: z.number().int().positive().optional(),
        previewReadyMs: z.number().int().positive().optional(),
        reachPlatformMs: z.number().int().positive().optional(),
      })
      .default({}),
  })
  .refine((spec) => !spec.steps.preview || spec.previewPort !== undefined, {
    message: "steps.preview needs previewPort",
    path: ["previewPort"],
  });

export type RunSpec = z.infer<typeof runSpecSchema>;

/** What is needed to report a broken spec to the platform (when at least this much of it is readable). */
export const reportingSpecSchema = z.object({
  runId,
  seqBase,
  webhookUrl: httpUrl,
  webhookSecret,
});

/** A readable account of why a spec was refused, with no values in it (they may be secrets). */
export function describeSpecIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(spec)"}: ${issue.message}`)
    .join("; ");
}
