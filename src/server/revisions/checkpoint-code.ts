import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Project } from "@/server/db/schema";
import { logError } from "@/server/http/log";
import type { Providers } from "@/server/integrations/registry";
import { repoRefOf } from "@/server/projects/project-resources";

// The files of a checkpoint's commit, as the Code tab reads them: exported once through the GitHost port (local and
// GitHub alike), walked without following links, and kept in the project's blob store as one JSON document (a
// commit never changes). Only this document is ever read to answer for a file, never the disk: a path can name
// nothing but an entry of the listing.

/** Larger text files are listed but not stored or shown. */
export const maxShownFileBytes = 200 * 1024;
/** Past this much stored text, later files (by path) are listed without their content. */
const maxStoredBytes = 16 * 1024 * 1024;
const maxFiles = 5000;
/** Dependencies, build output and tool state: never part of what the agent wrote, and often huge. */
const skippedDirs = new Set([".git", "node_modules", ".next", ".turbo", ".vercel", ".cache", ".pnpm-store"]);
/** As git decides: a NUL byte in the first 8000 bytes makes a file binary. */
const sniffBytes = 8000;

const snapshotSchema = z.object({
  headSha: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      size: z.number().int().nonnegative(),
      kind: z.enum(["text", "binary", "symlink"]),
      /** A symlink's target, as written in the commit (never followed). */
      target: z.string().optional(),
    }),
  ),
  /** The text of every text file up to maxShownFileBytes (within maxStoredBytes), by path. */
  texts: z.record(z.string(), z.string()),
  truncated: z.boolean(),
});
export type CodeSnapshot = z.infer<typeof snapshotSchema>;
export type SnapshotFile = CodeSnapshot["files"][number];

export function revisionCodeKey(revisionId: string): string {
  return `code/${revisionId}.json`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function textOf(bytes: Buffer): string | null {
  if (bytes.subarray(0, sniffBytes).includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch (error) {
    // Not UTF-8: shown as binary rather than as mojibake.
    if (error instanceof TypeError) return null;
    throw error;
  }
}

async function isBinaryFile(absolute: string): Promise<boolean> {
  const handle = await fs.open(absolute, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(sniffBytes), 0, sniffBytes, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

/** Every file under `root` (sorted by path), links recorded as links: nothing outside `root` is ever read. */
async function snapshotOf(root: string, headSha: string): Promise<CodeSnapshot> {
  const files: SnapshotFile[] = [];
  const texts: Record<string, string> = {};
  let stored = 0;
  let truncated = false;

  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= maxFiles) {
        truncated = true;
        return;
      }
      const file = relative ? `${relative}/${entry.name}` : entry.name;
      const absolute = path.join(root, file);
      if (entry.isDirectory()) {
        if (!skippedDirs.has(entry.name)) await walk(file);
      } else if (entry.isSymbolicLink()) {
        const target = await fs.readlink(absolute);
        files.push({ path: file, size: Buffer.byteLength(target), kind: "symlink", target });
      } else if (entry.isFile()) {
        const { size } = await fs.lstat(absolute);
        if (size > maxShownFileBytes || stored + size > maxStoredBytes) {
          files.push({ path: file, size, kind: (await isBinaryFile(absolute)) ? "binary" : "text" });
          continue;
        }
        const text = textOf(await fs.readFile(absolute));
        files.push({ path: file, size, kind: text === null ? "binary" : "text" });
        if (text !== null) {
          texts[file] = text;
          stored += size;
        }
      }
    }
  };
  await walk("");
  // The walk sorted each folder's entries; sort again so "a/b" and "a.txt" order the way the listing is read.
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { headSha, files, texts, truncated };
}

function fromCache(body: Buffer, headSha: string): CodeSnapshot | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (error) {
    // A torn or foreign blob is recomputed and replaced.
    logError("checkpoint code cache", error);
    return undefined;
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success || parsed.data.headSha !== headSha) return undefined;
  return parsed.data;
}

/** The files of `revisionId`'s commit `headSha`, from the blob store or exported once and stored there. */
export async function loadCheckpointCode(
  providers: Providers,
  project: Project,
  revisionId: string,
  headSha: string,
): Promise<CodeSnapshot> {
  const key = revisionCodeKey(revisionId);
  const cached = await providers.blob.get(key);
  const hit = cached && fromCache(cached.body, headSha);
  if (hit) return hit;

  const repo = repoRefOf(project);
  if (!repo) throw new Error(`Project ${project.id} has a committed checkpoint but no repository recorded.`);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "kiln-code-"));
  let snapshot: CodeSnapshot;
  try {
    const tree = path.join(workDir, "tree");
    await providers.git.exportTree(repo, headSha, tree);
    snapshot = await snapshotOf(tree, headSha);
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
  try {
    await providers.blob.put(key, JSON.stringify(snapshot), { contentType: "application/json" });
  } catch (error) {
    // The cache only saves exporting again: the operator still gets the files.
    logError("checkpoint code cache", error);
  }
  return snapshot;
}
