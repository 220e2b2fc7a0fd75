/**
 * Size caps for the events an agent's output becomes (the normalisers) and the runner sends. The event schema
 * allows 200,000 characters per text field and 2,000 per short one; the runner stays well under (a webhook batch
 * is capped at 1 MB, and one runaway command output must not crowd out everything else).
 */

export const maxTextChars = 100_000;
export const maxShortChars = 2_000;
const marker = "…[truncated]";

/** `text` cut to `max` characters: its head and tail around a marker, so both the start and the end survive. */
export function capText(text: string, max: number = maxTextChars): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return text.slice(0, max);
  const keep = max - marker.length;
  const head = Math.ceil(keep * 0.6);
  return `${text.slice(0, head)}${marker}${text.slice(text.length - (keep - head))}`;
}

export function capShort(text: string): string {
  return capText(text, maxShortChars);
}

/** A path inside `workdir` as a relative path (what the UI shows); anything else unchanged. */
export function relativeToWorkdir(filePath: string, workdir: string): string {
  const base = workdir.endsWith("/") ? workdir : `${workdir}/`;
  if (filePath.startsWith(base)) return filePath.slice(base.length) || ".";
  return filePath === workdir ? "." : filePath;
}
