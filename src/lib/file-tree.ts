// A flat list of "/"-separated paths as a folder tree, for the Code tab. Pure: unit-tested in
// tests/unit/file-tree.test.ts.

export type FileTreeFolder<F> = {
  kind: "folder";
  name: string;
  /** The folder's path from the root ("src/app"). */
  path: string;
  children: Array<FileTreeNode<F>>;
  /** Files below it (at any depth) that `isChanged` marks. */
  changed: number;
};
export type FileTreeFile<F> = { kind: "file"; name: string; path: string; file: F };
export type FileTreeNode<F> = FileTreeFolder<F> | FileTreeFile<F>;

function compareNodes<F>(a: FileTreeNode<F>, b: FileTreeNode<F>): number {
  if (a.kind !== b.kind) return a.kind === "folder" ? -1 : 1;
  return a.name.localeCompare(b.name, "en");
}

function sortTree<F>(folder: FileTreeFolder<F>): void {
  folder.children.sort(compareNodes);
  for (const child of folder.children) if (child.kind === "folder") sortTree(child);
}

/** The root folder (path "") holding `files`: folders first, then files, each by name. */
export function buildFileTree<F extends { path: string }>(
  files: ReadonlyArray<F>,
  isChanged: (file: F) => boolean = () => false,
): FileTreeFolder<F> {
  const root: FileTreeFolder<F> = { kind: "folder", name: "", path: "", children: [], changed: 0 };
  const folders = new Map<string, FileTreeFolder<F>>([["", root]]);
  for (const file of files) {
    const parts = file.path.split("/");
    const name = parts.pop() ?? file.path;
    let parent = root;
    const changed = isChanged(file);
    if (changed) root.changed += 1;
    for (const part of parts) {
      const folderPath = parent.path ? `${parent.path}/${part}` : part;
      let folder = folders.get(folderPath);
      if (!folder) {
        folder = { kind: "folder", name: part, path: folderPath, children: [], changed: 0 };
        folders.set(folderPath, folder);
        parent.children.push(folder);
      }
      if (changed) folder.changed += 1;
      parent = folder;
    }
    parent.children.push({ kind: "file", name, path: file.path, file });
  }
  sortTree(root);
  return root;
}

/** The folders that hold `filePath`, outermost first: "src/app/page.tsx" → ["src", "src/app"]. */
export function foldersOf(filePath: string): string[] {
  const parts = filePath.split("/").slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

/**
 * The file to show first: `requested` when the listing has it, else the first changed file under `src/`, the first
 * changed file, a README, or the first file; null for an empty listing.
 */
export function initialFile<F extends { path: string }>(
  files: ReadonlyArray<F>,
  requested: string | null,
  isChanged: (file: F) => boolean,
): string | null {
  const has = (candidate: F | undefined) => candidate?.path ?? null;
  if (requested && files.some((file) => file.path === requested)) return requested;
  return (
    has(files.find((file) => isChanged(file) && file.path.startsWith("src/"))) ??
    has(files.find(isChanged)) ??
    has(files.find((file) => /^readme(\.[a-z]+)?$/i.test(file.path))) ??
    has(files[0])
  );
}
