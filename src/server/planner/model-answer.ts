/** What one planning request produced, before the plan itself is checked. */
export type ModelAnswer =
  | { kind: "answer"; value: unknown }
  /** Not a plan at all: not JSON, cut off, empty. */
  | { kind: "invalid"; problem: string }
  | { kind: "refused"; reason: string };

/** A model's own words in a message: one line, bounded. */
export function excerpt(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
