import { describe, expect, it } from "vitest";
import { highlightDiff, patchSides } from "@/server/revisions/highlight-diff";

// Coloured patches: each side of a patch is tokenized as one text, and every patch line gets back its own tokens.

const patch = [
  "@@ -1,4 +1,4 @@",
  " const greeting = `hello",
  '-world`; // "old"',
  "+there`;",
  " export { greeting };",
  "\\ No newline at end of file",
  "",
].join("\n");

describe("patchSides", () => {
  it("splits a patch into its old and new texts and remembers where each line went", () => {
    const sides = patchSides(patch);
    expect(sides.old).toEqual(["const greeting = `hello", 'world`; // "old"', "export { greeting };"]);
    expect(sides.new).toEqual(["const greeting = `hello", "there`;", "export { greeting };"]);
    expect(sides.refs).toEqual([
      null,
      { side: "new", index: 0 },
      { side: "old", index: 1 },
      { side: "new", index: 1 },
      { side: "new", index: 2 },
      null,
      null,
    ]);
  });
});

describe("highlightDiff", () => {
  const file = {
    path: "src/greeting.ts",
    oldPath: null,
    status: "modified" as const,
    additions: 1,
    deletions: 1,
    binary: false,
    patch,
  };

  it("gives every content line its own text back as coloured tokens, headers none", async () => {
    const [colored] = (await highlightDiff({ baseSha: "a", headSha: "b", truncated: false, files: [file] }))
      .files;
    const lines = patch.split("\n");
    expect(colored?.highlight?.lines).toHaveLength(lines.length);
    colored?.highlight?.lines.forEach((tokens, index) => {
      const line = lines[index] ?? "";
      if (tokens === null) expect(line === "" || line.startsWith("@@") || line.startsWith("\\")).toBe(true);
      else expect(tokens.map(([text]) => text).join("")).toBe(line.slice(1));
    });
    // The added line continues the template string the context line opened: coloured as a string, like "hello".
    const colorOf = (lineIndex: number, text: string) => {
      const token = colored?.highlight?.lines[lineIndex]?.find(([tokenText]) => tokenText.includes(text));
      return token ? colored?.highlight?.colors[token[1]] : undefined;
    };
    expect(colorOf(3, "there")).toEqual(colorOf(1, "hello"));
    expect(colorOf(3, "there")).not.toEqual(colorOf(4, "export"));
  });

  it("leaves binary files, unknown languages and empty patches plain", async () => {
    const { files } = await highlightDiff({
      baseSha: "a",
      headSha: "b",
      truncated: false,
      files: [
        { ...file, path: "LICENSE" },
        { ...file, path: "logo.png", binary: true, patch: "" },
      ],
    });
    expect(files.map((entry) => entry.highlight)).toEqual([null, null]);
  });
});
