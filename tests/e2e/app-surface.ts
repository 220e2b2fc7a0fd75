import fs from "node:fs";
import path from "node:path";

// Enumerates what the built app exposes, from the source tree and the build's own manifest, so the auth
// boundary test covers every page, route handler and server action that exists, not a hand-picked list.

const APP_DIR = path.resolve("src/app");

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** "(main)/projects/[projectId]/page.tsx" → "/projects/prj_e2e_missing". Dynamic segments get dummy values. */
function urlFor(file: string): string {
  const segments = path
    .relative(APP_DIR, path.dirname(file))
    .split(path.sep)
    .filter((segment) => segment && !/^\(.*\)$/.test(segment))
    .map((segment) => {
      if (/^\[\.\.\..+\]$/.test(segment)) return "some/path";
      if (/^\[.+\]$/.test(segment)) return segment === "[kind]" ? "github" : "prj_e2e_missing";
      return segment;
    });
  return `/${segments.join("/")}`;
}

export type PageEntry = { file: string; url: string };
export type RouteEntry = { file: string; url: string; methods: string[] };
export type ActionEntry = { id: string; name: string; file: string; pagePath: string };

export function listPages(): PageEntry[] {
  return walk(APP_DIR)
    .filter((file) => /(^|\/)page\.tsx$/.test(file))
    .map((file) => ({ file: path.relative(APP_DIR, file), url: urlFor(file) }));
}

export function listRouteHandlers(): RouteEntry[] {
  return walk(APP_DIR)
    .filter((file) => /(^|\/)route\.ts$/.test(file))
    .map((file) => {
      const source = fs.readFileSync(file, "utf8");
      const methods = [
        ...source.matchAll(/export (?:const|async function) (GET|POST|PUT|PATCH|DELETE)\b/g),
      ].map((match) => match[1] ?? "");
      return { file: path.relative(APP_DIR, file), url: urlFor(file), methods };
    });
}

/** Every exported server action, as the build registered it, with a page that can receive it. */
export function listServerActions(): ActionEntry[] {
  const manifestFile = path.resolve(".next/server/server-reference-manifest.json");
  const manifest: {
    node: Record<string, { workers: Record<string, unknown>; filename: string; exportedName: string }>;
  } = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  return Object.entries(manifest.node).map(([id, entry]) => {
    const worker = Object.keys(entry.workers)[0] ?? "app/(auth)/login/page";
    const pagePath = `/${worker
      .replace(/^app\//, "")
      .replace(/\/page$/, "")
      .split("/")
      .filter((segment) => !/^\(.*\)$/.test(segment))
      .map((segment) => (/^\[.+\]$/.test(segment) ? "prj_e2e_missing" : segment))
      .join("/")}`;
    return { id, name: entry.exportedName, file: entry.filename, pagePath };
  });
}

/** The names exported by `"use server"` files, read from source, to prove the manifest list is complete. */
export function exportedActionNames(): string[] {
  const dir = path.resolve("src/actions");
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith(".ts"))
    .map((file) => fs.readFileSync(path.join(dir, file), "utf8"))
    .filter((source) => source.startsWith('"use server"'))
    .flatMap((source) => [...source.matchAll(/export const (\w+)\s*=/g)].map((match) => match[1] ?? ""));
}
