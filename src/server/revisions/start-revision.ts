import "server-only";
import { env } from "@/env";
import type { Database } from "@/server/db/connection";
import { scheduleRevision, scheduleSandboxStop, scheduleWake } from "@/server/pipeline/schedule";
import { createFollowUp, createRestore } from "./create-revision";
import type { RevisionDto } from "./revision-dto";
import { cancelRevision } from "./revision-queries";
import { requestWake } from "./wake-revision-request";

// What the routes (and later the workspace's actions) call: record the change, then start or stop the work after
// the response. One function per operation keeps every entry point at parse → authorize → call.

export async function startFollowUp(
  db: Database,
  userId: string,
  input: { projectId: string; taskId: string; prompt: string },
): Promise<RevisionDto> {
  const revision = await createFollowUp(db, userId, input);
  scheduleRevision(revision.id);
  return revision;
}

export async function startRestore(db: Database, userId: string, revisionId: string): Promise<RevisionDto> {
  const revision = await createRestore(db, userId, revisionId, {
    defaultRetention: env.KILN_BRANCH_RETENTION,
  });
  scheduleRevision(revision.id);
  return revision;
}

export async function cancelAndStop(db: Database, userId: string, revisionId: string): Promise<RevisionDto> {
  const revision = await cancelRevision(db, userId, revisionId);
  scheduleSandboxStop(revision.id);
  return revision;
}

/** Refuses what cannot be woken, then wakes the checkpoint's preview after the response. */
export async function startWake(db: Database, userId: string, revisionId: string): Promise<RevisionDto> {
  const revision = await requestWake(db, userId, revisionId, { defaultRetention: env.KILN_BRANCH_RETENTION });
  scheduleWake(revision.id);
  return revision;
}
