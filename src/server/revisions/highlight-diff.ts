import { highlightCode } from "@/server/highlight/highlight";
import { languageOf } from "@/server/highlight/languages";
import type { DiffFile } from "./parse-git-diff";
import type { HighlightedDiff, HighlightedPatch, RevisionDiff } from "./revision-diff-types";

// Colours a diff's patches on the server. Each side of a patch (context and removed lines; context and added
// lines) is tokenized as one text, so a line inside a multi-line string or comment is coloured as such.

/** Patches beyond these are shown plain: tokenizing costs about a second per 100 KB on a busy box. */
const maxPatchBytes = 64 * 1024;
const maxTotalBytes = 512 * 1024;

type LineRef = { side: "old" | "new"; index: number } | null;

/** The old and new sides of a patch's lines, and where each patch line landed. */
export function patchSides(patch: string): { old: string[]; new: string[]; refs: LineRef[] } {
  const sides = { old: [] as string[], new: [] as string[] };
  const refs = patch.split("\n").map((line): LineRef => {
    const mark = line[0];
    const text = line.slice(1);
    if (mark === "-") return { side: "old", index: sides.old.push(text) - 1 };
    if (mark === "+") return { side: "new", index: sides.new.push(text) - 1 };
    if (mark === " ") {
      sides.old.push(text);
      return { side: "new", index: sides.new.push(text) - 1 };
    }
    // Hunk headers, "\ No newline at end of file", and the empty string after the last line break.
    return null;
  });
  return { ...sides, refs };
}

async function highlightPatch(file: DiffFile, language: string): Promise<HighlightedPatch> {
  const sides = patchSides(file.patch);
  const [oldCode, newCode] = await Promise.all([
    highlightCode(sides.old.join("\n"), language),
    highlightCode(sides.new.join("\n"), language),
  ]);
  // One palette for both sides: the new side's colours are numbered after the old side's.
  const offset = oldCode.colors.length;
  return {
    colors: [...oldCode.colors, ...newCode.colors],
    lines: sides.refs.map((ref) => {
      if (ref === null) return null;
      if (ref.side === "old") return oldCode.lines[ref.index] ?? [];
      return (newCode.lines[ref.index] ?? []).map(([text, color]) => [text, color + offset]);
    }),
  };
}

/** `diff` with each patch coloured by its file's language, within the caps above (in path order). */
export async function highlightDiff(diff: RevisionDiff): Promise<HighlightedDiff> {
  let total = 0;
  const files: HighlightedDiff["files"] = [];
  for (const file of diff.files) {
    const language = languageOf(file.path);
    const size = Buffer.byteLength(file.patch);
    if (file.patch === "" || language === null || size > maxPatchBytes || total + size > maxTotalBytes) {
      files.push({ ...file, highlight: null });
      continue;
    }
    total += size;
    files.push({ ...file, highlight: await highlightPatch(file, language) });
  }
  return { ...diff, files };
}
