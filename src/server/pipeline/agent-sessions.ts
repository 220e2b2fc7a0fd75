import { z } from "zod";
import type { BlobStore } from "@/server/integrations/blob-store/port";
import type { SandboxHandle } from "@/server/integrations/sandboxes/port";

// The coding agent's session travels between checkpoints through blob storage: the runner leaves it in
// `.kiln/session/` (outside git); the platform stores it under `sessions/<revisionId>/` with a manifest naming the
// session id, and puts it back into a follow-up's sandbox so the agent resumes where it stopped.

const SESSION_DIR = ".kiln/session";
const manifestSchema = z.object({ sessionId: z.string().min(1).nullable(), files: z.number().int() });

const manifestKey = (revisionId: string) => `sessions/${revisionId}.json`;
const filePrefix = (revisionId: string) => `sessions/${revisionId}/`;

export async function saveAgentSession(
  blob: BlobStore,
  sandbox: SandboxHandle,
  revisionId: string,
  sessionId: string | null,
): Promise<number> {
  const listed = await sandbox.run({ cmd: "find", args: [SESSION_DIR, "-type", "f"] });
  const files =
    listed.exitCode === 0
      ? listed.stdout.split("\n").filter((line) => line.startsWith(`${SESSION_DIR}/`))
      : [];
  for (const file of files) {
    const content = await sandbox.readFile(file);
    if (content) await blob.put(`${filePrefix(revisionId)}${file.slice(SESSION_DIR.length + 1)}`, content);
  }
  await blob.put(manifestKey(revisionId), JSON.stringify({ sessionId, files: files.length }), {
    contentType: "application/json",
  });
  return files.length;
}

/** Puts a saved session into the sandbox; returns the session id to resume, or null when none was saved. */
export async function restoreAgentSession(
  blob: BlobStore,
  sandbox: SandboxHandle,
  revisionId: string,
): Promise<string | null> {
  const manifest = await blob.get(manifestKey(revisionId));
  if (!manifest) return null;
  const { sessionId } = manifestSchema.parse(JSON.parse(manifest.body.toString("utf8")));
  let cursor: string | null = null;
  do {
    const page = await blob.list(filePrefix(revisionId), { cursor: cursor ?? undefined, limit: 100 });
    for (const item of page.items) {
      const found = await blob.get(item.key);
      if (found) {
        await sandbox.writeFiles([
          { path: `${SESSION_DIR}/${item.key.slice(filePrefix(revisionId).length)}`, content: found.body },
        ]);
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return sessionId;
}

/** Removes a checkpoint's saved agent session (its files, then the manifest). Idempotent. */
export async function deleteAgentSession(blob: BlobStore, revisionId: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await blob.list(filePrefix(revisionId), { cursor });
    if (page.items.length > 0) await blob.delete(page.items.map((item) => item.key));
    cursor = page.cursor ?? undefined;
  } while (cursor);
  await blob.delete([manifestKey(revisionId)]);
}
