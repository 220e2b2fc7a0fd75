import { z } from "zod";
import { eventBodySchema } from "./schema";

// Client-safe on purpose (imports only zod and the protocol schema): the browser parses every SSE `data:` line with
// `publicEventSchema`, the same schema the server's shape is checked against. Keep server-only imports out.

/**
 * An event as anyone holding a share link sees it, and the shape the session components render. Compared with a
 * `StoredEvent` it names its checkpoint by ordinal instead of the internal revision id, and it carries no event id
 * (a runner's ids embed its revision id); the cursor identifies it. Payload strings are scrubbed of the platform's
 * identifiers and long outputs are clipped (see src/server/sessions/public-events.ts).
 */
export const publicEventSchema = z.intersection(
  z.object({
    cursor: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
    at: z.number().int().nonnegative(),
    checkpoint: z.number().int().positive().nullable(),
  }),
  eventBodySchema,
);
export type PublicEvent = z.infer<typeof publicEventSchema>;

/** Event types a public viewer never receives: the agent's resumable session id, and liveness pings. */
export const privateEventTypes: ReadonlySet<string> = new Set(["agent.session", "runner.heartbeat"]);

/** Every event type of the protocol: SSE frames are named by type, and EventSource only delivers names it listens to. */
export const eventTypes: readonly string[] = eventBodySchema.options.map((option) => option.shape.type.value);
