import { z } from "zod";
import { stripAnsi } from "./build-output";

/**
 * Build output from `GET /v3/deployments/{id}/events`. Vercel documents two event shapes — flat
 * `{type, created, text, level?, …}` and nested `{type, created, payload: {text, …}}` — served as a JSON array, or
 * as newline-delimited JSON when streamed; all are read here. Error lines are `stderr` and `fatal` events and any
 * event with `level: "error"`.
 */

const eventSchema = z.object({
  type: z.string(),
  created: z.number().nullish(),
  text: z.string().nullish(),
  level: z.string().nullish(),
  payload: z.object({ text: z.string().nullish() }).nullish(),
});

export type VercelEvent = z.infer<typeof eventSchema>;

const maxLineLength = 2_000;

export function parseEvents(text: string): VercelEvent[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const raw: unknown = trimmed.startsWith("[")
    ? JSON.parse(trimmed)
    : trimmed
        .split("\n")
        .filter((line) => line.trim())
        .map((line): unknown => JSON.parse(line));
  if (!Array.isArray(raw)) throw new TypeError("the events answer is not a list");
  return raw.flatMap((item) => {
    const event = eventSchema.safeParse(item);
    // Other event kinds (e.g. alias-assigned) carry no build output.
    return event.success ? [event.data] : [];
  });
}

function isError(event: VercelEvent): boolean {
  return event.type === "stderr" || event.type === "fatal" || event.level === "error";
}

/** The last `limit` error lines, oldest first, given events newest first (`direction=backward`). */
export function errorLinesOf(newestFirst: VercelEvent[], limit: number): string[] {
  const lines = [...newestFirst]
    .reverse()
    .filter(isError)
    .flatMap((event) => (event.text ?? event.payload?.text ?? "").split(/\r?\n/))
    .map((line) => stripAnsi(line).trimEnd())
    .filter((line) => line.trim().length > 0);
  return lines
    .slice(-limit)
    .map((line) => (line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line));
}

/** Every line of build output, oldest first, given events newest first (`direction=backward`). */
export function logLinesOf(newestFirst: VercelEvent[]): string[] {
  return [...newestFirst]
    .reverse()
    .flatMap((event) => (event.text ?? event.payload?.text ?? "").split(/\r?\n/))
    .filter((line) => line.trim().length > 0);
}
