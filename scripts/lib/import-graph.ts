import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

// The import rules a layered tree keeps (docs/architecture.md), read from the source as text:
// - no folder-level import cycle under src/server (a file at its top level is a folder of its own);
// - nothing under src/components reaches a server-side module: one that imports the database, a Node built-in or
//   `server-only`, directly or through what it imports. A server action ("use server") is the way across and is
//   not followed. Type-only imports count: a type import today is a value import tomorrow.

export type ImportGraph = {
  root: string;
  /** Repository-relative file → repository-relative files it imports (inside the tree). */
  edges: Map<string, string[]>;
  /** Repository-relative file → bare module names it imports (packages and built-ins). */
  packages: Map<string, string[]>;
  serverActions: Set<string>;
};

export type ImportViolation =
  | { kind: "cycle"; folders: string[]; edges: Array<{ from: string; to: string }> }
  | { kind: "client-imports-server"; chain: string[]; reason: string };

const sourceExtensions = [".ts", ".tsx"];
const builtins = new Set(builtinModules);
const databasePackages = new Set([
  "kysely",
  "mysql2",
  "mysql2/promise",
  "@libsql/client",
  "@libsql/kysely-libsql",
]);

function listSources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listSources(full);
    return sourceExtensions.includes(path.extname(entry.name)) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

function isServerAction(text: string): boolean {
  const first = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest).statements[0];
  return (
    first !== undefined &&
    ts.isExpressionStatement(first) &&
    ts.isStringLiteral(first.expression) &&
    first.expression.text === "use server"
  );
}

/** Reads every .ts/.tsx file under `dirs` (relative to `root`) and resolves its imports with the tree's tsconfig. */
export function readImportGraph(root: string, dirs: string[]): ImportGraph {
  const configPath = path.join(root, "tsconfig.json");
  const config = fs.existsSync(configPath)
    ? ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root)
        .options
    : { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext };
  const graph: ImportGraph = { root, edges: new Map(), packages: new Map(), serverActions: new Set() };
  for (const file of dirs.flatMap((dir) => listSources(path.join(root, dir)))) {
    const text = fs.readFileSync(file, "utf8");
    const relative = path.relative(root, file);
    if (isServerAction(text)) graph.serverActions.add(relative);
    const files: string[] = [];
    const packages: string[] = [];
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, config, ts.sys).resolvedModule;
      const inside =
        resolved &&
        !resolved.isExternalLibraryImport &&
        !resolved.resolvedFileName.includes(`${path.sep}node_modules${path.sep}`);
      if (inside) files.push(path.relative(root, resolved.resolvedFileName));
      else packages.push(imported.fileName);
    }
    graph.edges.set(relative, files);
    graph.packages.set(relative, packages);
  }
  return graph;
}

/** src/server/pipeline/steps/deploy.ts → src/server/pipeline; src/server/errors.ts → src/server/errors.ts. */
function folderOf(file: string, base: string): string | undefined {
  if (!file.startsWith(`${base}/`)) return undefined;
  const [first, ...rest] = file.slice(base.length + 1).split("/");
  return rest.length === 0 ? file : `${base}/${first}`;
}

/** Strongly connected groups of folders (Tarjan), each with the file imports that tie it. */
export function folderCycles(graph: ImportGraph, base = "src/server"): ImportViolation[] {
  const folderEdges = new Map<string, Map<string, Array<{ from: string; to: string }>>>();
  for (const [from, targets] of graph.edges) {
    const source = folderOf(from, base);
    if (!source) continue;
    for (const to of targets) {
      const target = folderOf(to, base);
      if (!target || target === source) continue;
      const out = folderEdges.get(source) ?? new Map<string, Array<{ from: string; to: string }>>();
      out.set(target, [...(out.get(target) ?? []), { from, to }]);
      folderEdges.set(source, out);
    }
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (folder: string) => {
    index.set(folder, index.size);
    low.set(folder, index.get(folder) ?? 0);
    stack.push(folder);
    onStack.add(folder);
    for (const next of folderEdges.get(folder)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(folder, Math.min(low.get(folder) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(folder, Math.min(low.get(folder) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(folder) !== index.get(folder)) return;
    const group: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      group.push(member);
      if (member === folder) break;
    }
    if (group.length > 1) groups.push(group.sort());
  };
  for (const folder of [...folderEdges.keys()].sort()) if (!index.has(folder)) visit(folder);
  return groups.map((folders) => {
    const members = new Set(folders);
    const edges = folders.flatMap((from) =>
      [...(folderEdges.get(from) ?? new Map())].filter(([to]) => members.has(to)).flatMap(([, ties]) => ties),
    );
    return { kind: "cycle", folders, edges };
  });
}

function serverReason(graph: ImportGraph, file: string): string | undefined {
  for (const name of graph.packages.get(file) ?? []) {
    if (name === "server-only") return "imports server-only";
    if (name.startsWith("node:") || builtins.has(name)) return `imports the Node built-in ${name}`;
    if (databasePackages.has(name)) return `imports the database driver ${name}`;
  }
  return undefined;
}

/** Every component file that reaches a server-side module, with the shortest chain of imports that gets there. */
export function clientImportsOfServer(graph: ImportGraph, clientDir = "src/components"): ImportViolation[] {
  const violations: ImportViolation[] = [];
  for (const start of [...graph.edges.keys()].filter((file) => file.startsWith(`${clientDir}/`)).sort()) {
    const parent = new Map<string, string | undefined>([[start, undefined]]);
    const queue = [start];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const reason = serverReason(graph, file);
      if (reason) {
        const chain: string[] = [];
        for (let step: string | undefined = file; step !== undefined; step = parent.get(step))
          chain.unshift(step);
        violations.push({ kind: "client-imports-server", chain, reason });
        break;
      }
      for (const next of graph.edges.get(file) ?? []) {
        if (parent.has(next) || graph.serverActions.has(next)) continue;
        parent.set(next, file);
        queue.push(next);
      }
    }
  }
  return violations;
}

export function checkImports(root: string): ImportViolation[] {
  const graph = readImportGraph(root, ["src"]);
  return [...folderCycles(graph), ...clientImportsOfServer(graph)];
}

export function describeViolation(violation: ImportViolation): string {
  if (violation.kind === "cycle") {
    const ties = violation.edges.map((edge) => `    ${edge.from} → ${edge.to}`).join("\n");
    return `folders import each other in a cycle: ${violation.folders.join(", ")}\n${ties}`;
  }
  return `a component reaches a server-side module (${violation.reason}):\n    ${violation.chain.join("\n  → ")}`;
}
