import type { Database } from "@/server/db/connection";
import { findRevisionById, getRevisionById } from "@/server/db/queries/pipeline";
import { logError } from "@/server/http/log";
import type { BlobStore } from "@/server/integrations/blob-store/port";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";

// A checkpoint's verified build (the runner's `next build`, `.next` packed: src/sandboxes/runner/build-output.ts),
// kept in the project's blob store so the deploy and a restore's preview serve it with `next start` instead of
// building the same tree again. Keyed by tree: the same files build the same app, so a restore (its target's tree,
// byte for byte) reuses its target's. See docs/pipeline.md "Build output".

export function buildOutputKey(projectId: string, treeSha: string): string {
  return `builds/${projectId}/${treeSha}.tar.gz`;
}

/** Every stored build of a project (for its teardown). */
export function buildOutputPrefix(projectId: string): string {
  return `builds/${projectId}/`;
}

/**
 * Copies the build the runner packed from its sandbox into the blob store; returns its key, or null when it is not
 * there (logged: the checkpoint is still good, its deploy builds the commit as before).
 */
export async function storeRunnerBuild(
  blob: BlobStore,
  sandbox: SandboxHandle,
  target: { projectId: string; treeSha: string; buildFile: string },
): Promise<string | null> {
  const data = await sandbox.readFile(target.buildFile);
  if (!data) {
    logError(
      `build output of tree ${target.treeSha}`,
      new Error(`${target.buildFile} is not in the sandbox`),
    );
    return null;
  }
  const key = buildOutputKey(target.projectId, target.treeSha);
  await blob.put(key, data, { contentType: "application/gzip" });
  return key;
}

/**
 * The stored build a restore reuses: its target's, whose tree it brings back unchanged. Null when the revision is
 * not a restore or its target has none (built before builds were kept).
 */
export async function restoredBuildKey(db: Database, revisionId: string): Promise<string | null> {
  const revision = await getRevisionById(db, revisionId);
  if (revision.kind !== "restore" || !revision.restored_from_revision_id) return null;
  return (await findRevisionById(db, revision.restored_from_revision_id))?.build_key ?? null;
}

/** Deletes every stored build of a project; idempotent. */
export async function deleteStoredBuilds(blob: BlobStore, projectId: string): Promise<void> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await blob.list(buildOutputPrefix(projectId), { cursor, limit: 1000 });
    keys.push(...page.items.map((item) => item.key));
    cursor = page.cursor ?? undefined;
  } while (cursor);
  if (keys.length > 0) await blob.delete(keys);
}
