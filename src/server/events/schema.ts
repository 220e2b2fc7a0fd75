import { z } from "zod";
import {
  type RevisionStatus,
  revisionStatuses,
  type StepName,
  stepNames,
} from "@/server/revisions/state-machine";

/**
 * Kiln's one event protocol. Every event of a build (the platform's own and the sandbox runner's) is one of these;
 * stored append-only in `event`, streamed over SSE from a cursor, and parsed with this same schema on the client.
 * Payloads never carry secrets: the webhook redacts before storing (see docs/pipeline.md).
 */

export type { RevisionStatus, StepName };
export const stepSchema = z.enum(stepNames);
export const revisionStatusSchema = z.enum(revisionStatuses);

const text = z.string().max(200_000);
const short = z.string().max(2_000);

export const eventBodySchema = z.discriminatedUnion("type", [
  // Platform: the revision's state machine and its steps.
  z.object({
    type: z.literal("revision.status"),
    payload: z.object({ status: revisionStatusSchema, reason: short.optional() }),
  }),
  z.object({ type: z.literal("step.started"), payload: z.object({ step: stepSchema }) }),
  z.object({
    type: z.literal("step.finished"),
    payload: z.object({ step: stepSchema, durationMs: z.number().int().nonnegative() }),
  }),
  z.object({ type: z.literal("step.failed"), payload: z.object({ step: stepSchema, reason: short }) }),
  z.object({
    type: z.literal("plan"),
    payload: z.object({ title: short, slug: short, steps: z.array(short).max(50), prompt: text }),
  }),
  z.object({ type: z.literal("progress"), payload: z.object({ message: short }) }),
  // Runner: what the coding agent did, normalised from Codex JSONL / Claude Code stream-json.
  z.object({ type: z.literal("agent.message"), payload: z.object({ itemId: short, text }) }),
  z.object({ type: z.literal("agent.reasoning"), payload: z.object({ itemId: short, text }) }),
  z.object({
    type: z.literal("agent.command"),
    payload: z.object({
      itemId: short,
      command: text,
      output: text,
      exitCode: z.number().int().nullable(),
      status: z.enum(["running", "completed", "failed"]),
    }),
  }),
  z.object({
    type: z.literal("agent.file_change"),
    payload: z.object({
      itemId: short,
      changes: z.array(z.object({ path: short, kind: z.enum(["add", "update", "delete"]) })).max(1_000),
    }),
  }),
  z.object({
    type: z.literal("agent.todo"),
    payload: z.object({
      itemId: short,
      items: z.array(z.object({ text: short, done: z.boolean() })).max(200),
    }),
  }),
  z.object({
    type: z.literal("agent.usage"),
    payload: z.object({
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      cachedTokens: z.number().int().nonnegative(),
    }),
  }),
  z.object({ type: z.literal("agent.error"), payload: z.object({ message: text }) }),
  z.object({ type: z.literal("agent.session"), payload: z.object({ sessionId: short }) }),
  // Runner: the steps it drives inside the sandbox.
  z.object({
    type: z.literal("runner.output"),
    payload: z.object({ step: stepSchema, stream: z.enum(["stdout", "stderr"]), text }),
  }),
  z.object({
    type: z.literal("runner.step"),
    payload: z.object({
      step: stepSchema,
      status: z.enum(["started", "finished", "failed"]),
      attempt: z.number().int().min(1).max(5),
      reason: short.optional(),
    }),
  }),
  z.object({
    type: z.literal("runner.committed"),
    payload: z.object({
      bundleFile: short,
      message: short,
      treeSha: z.string().regex(/^[0-9a-f]{40}$/),
      /** The verified `next build` output, packed (runner/build-output.ts); absent from older runners. */
      buildFile: short.optional(),
    }),
  }),
  z.object({ type: z.literal("runner.preview"), payload: z.object({ port: z.number().int() }) }),
  z.object({ type: z.literal("runner.finished"), payload: z.object({}) }),
  z.object({ type: z.literal("runner.failed"), payload: z.object({ step: stepSchema, reason: short }) }),
  z.object({ type: z.literal("runner.heartbeat"), payload: z.object({}) }),
]);
export type EventBody = z.infer<typeof eventBodySchema>;
export type EventType = EventBody["type"];

/** An event as the runner sends it: a unique id per run, an increasing seq, and when it happened. */
export const wireEventSchema = z.intersection(
  z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{8,80}$/),
    seq: z.number().int().nonnegative(),
    at: z.number().int().positive(),
  }),
  eventBodySchema,
);
export type WireEvent = z.infer<typeof wireEventSchema>;

/** The webhook body: a batch from one sandbox's run. */
export const eventBatchSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{8,80}$/),
  events: z.array(wireEventSchema).min(1).max(500),
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

/** An event as stored and streamed: the database cursor id plus the wire fields. */
export type StoredEvent = WireEvent & { cursor: number; revisionId: string | null };

/** A stored event on the wire of the operator's stream (the browser parses each SSE frame with it). */
export const storedEventSchema = z.intersection(
  z.object({ cursor: z.number().int().nonnegative(), revisionId: z.string().nullable() }),
  wireEventSchema,
);
