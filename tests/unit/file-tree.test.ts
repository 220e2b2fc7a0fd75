import { describe, expect, it } from "vitest";
import { buildFileTree, type FileTreeNode, foldersOf, initialFile } from "@/lib/file-tree";
import { languageOf } from "@/server/highlight/languages";

type F = { path: string; changed?: boolean };
const changed = (file: F) => file.changed === true;

function outline(node: FileTreeNode<F>, depth = 0): string[] {
  const line = `${"  ".repeat(depth)}${node.name}${node.kind === "folder" ? `/ (${node.changed})` : ""}`;
  if (node.kind === "file") return [line];
  return [line, ...node.children.flatMap((child) => outline(child, depth + 1))];
}

describe("buildFileTree", () => {
  it("nests paths into folders, folders first, each level by name, counting changed files", () => {
    const tree = buildFileTree<F>(
      [
        { path: "README.md" },
        { path: "src/app/page.tsx", changed: true },
        { path: "src/app/layout.tsx" },
        { path: "package.json", changed: true },
        { path: "src/lib/db.ts", changed: true },
        { path: "src/app/api/entries/route.ts" },
        { path: ".env.example" },
      ],
      changed,
    );
    expect(outline(tree)).toEqual([
      "/ (3)",
      "  src/ (2)",
      "    app/ (1)",
      "      api/ (0)",
      "        entries/ (0)",
      "          route.ts",
      "      layout.tsx",
      "      page.tsx",
      "    lib/ (1)",
      "      db.ts",
      "  .env.example",
      "  package.json",
      "  README.md",
    ]);
    const src = tree.children[0];
    expect(src?.kind === "folder" && src.path).toBe("src");
  });

  it("is empty for no files", () => {
    expect(buildFileTree<F>([])).toEqual({ kind: "folder", name: "", path: "", children: [], changed: 0 });
  });
});

describe("foldersOf", () => {
  it("lists the enclosing folders outermost first", () => {
    expect(foldersOf("src/app/page.tsx")).toEqual(["src", "src/app"]);
    expect(foldersOf("README.md")).toEqual([]);
  });
});

describe("initialFile", () => {
  const files: F[] = [
    { path: "README.md" },
    { path: "package.json", changed: true },
    { path: "src/app/page.tsx", changed: true },
    { path: "src/lib/db.ts" },
  ];
  it("keeps a requested file the listing has", () => {
    expect(initialFile(files, "src/lib/db.ts", changed)).toBe("src/lib/db.ts");
  });
  it("otherwise prefers a changed file of the app's source, then any changed file, then the README", () => {
    expect(initialFile(files, "../etc/passwd", changed)).toBe("src/app/page.tsx");
    expect(initialFile(files.slice(0, 2), null, changed)).toBe("package.json");
    expect(initialFile([{ path: "a.ts" }, { path: "Readme.md" }], null, changed)).toBe("Readme.md");
    expect(initialFile([{ path: "a.ts" }], null, changed)).toBe("a.ts");
    expect(initialFile([], null, changed)).toBeNull();
  });
});

describe("languageOf", () => {
  it.each([
    ["src/app/page.tsx", "tsx"],
    ["src/lib/db.ts", "typescript"],
    ["next.config.mjs", "javascript"],
    ["package.json", "json"],
    ["src/app/globals.css", "css"],
    ["README.md", "markdown"],
    ["migrations/0001.sql", "sql"],
    [".github/workflows/ci.yml", "yaml"],
    ["Dockerfile", "docker"],
    [".env.example", "dotenv"],
    ["scripts/run.sh", "shellscript"],
    ["public/logo.svg", "xml"],
    ["LICENSE", null],
    [".gitignore", null],
    ["notes.unknownext", null],
    ["src/App.TSX", "tsx"],
  ])("%s → %s", (file, language) => {
    expect(languageOf(file)).toBe(language);
  });
});
