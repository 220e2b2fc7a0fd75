import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import type { NewRevision, Revision } from "../schema";

export async function insertRevision(db: Executor, revision: NewRevision): Promise<void> {
  await db.insertInto("revision").values(revision).execute();
}

/** A revision with whether its sandbox was stopped (null: running, or it has none), for the DTO's `previewAsleep`. */
export type RevisionWithSandbox = Revision & { sandbox_stopped_at: number | null };

export async function findRevisionOfUser(
  db: Executor,
  userId: string,
  revisionId: string,
): Promise<RevisionWithSandbox | undefined> {
  return db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .leftJoin("sandbox", "sandbox.id", "revision.sandbox_id")
    .selectAll("revision")
    .select("sandbox.stopped_at as sandbox_stopped_at")
    .where("revision.id", "=", revisionId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
}

export async function listRevisionsOfTask(
  db: Executor,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<RevisionWithSandbox[] | undefined> {
  const task = await db
    .selectFrom("task")
    .innerJoin("project", "project.id", "task.project_id")
    .select("task.id")
    .where("task.id", "=", taskId)
    .where("task.project_id", "=", projectId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
  if (!task) return undefined;
  return db
    .selectFrom("revision")
    .leftJoin("sandbox", "sandbox.id", "revision.sandbox_id")
    .selectAll("revision")
    .select("sandbox.stopped_at as sandbox_stopped_at")
    .where("revision.task_id", "=", taskId)
    .orderBy("revision.ordinal", "asc")
    .execute();
}

/** The task's newest finished checkpoint with a commit and a database branch: what a new task starts from. */
export async function findNewestFinishedCheckpoint(
  db: Executor,
  taskId: string,
): Promise<Revision | undefined> {
  return db
    .selectFrom("revision")
    .selectAll()
    .where("task_id", "=", taskId)
    .where("status", "=", "finished")
    .where("commit_sha", "is not", null)
    .where("db_branch_id", "is not", null)
    .orderBy("ordinal", "desc")
    .limit(1)
    .executeTakeFirst();
}

export type StatusChange = {
  status: string;
  step: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  startedAt?: number;
  finishedAt?: number | null;
};

/**
 * Compare-and-swap: moves the revision from `from` to the new status only if it is still in `from`, so two
 * writers (a webhook and the reconciler, say) can never both win. Returns whether this call made the change.
 */
export async function changeRevisionStatus(
  db: Executor,
  revisionId: string,
  from: string,
  change: StatusChange,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("revision")
    .set({
      status: change.status,
      step: change.step,
      ...(change.errorCode !== undefined ? { error_code: change.errorCode } : {}),
      ...(change.errorMessage !== undefined ? { error_message: change.errorMessage } : {}),
      ...(change.startedAt !== undefined ? { started_at: change.startedAt } : {}),
      ...(change.finishedAt !== undefined ? { finished_at: change.finishedAt } : {}),
      updated_at: now,
    })
    .where("id", "=", revisionId)
    .where("status", "=", from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Running revisions whose last sign of life (heartbeat, else last update) is older than `silentSince`. */
export async function findSilentRevisions(
  db: Executor,
  runningStatuses: readonly string[],
  silentSince: number,
) {
  return db
    .selectFrom("revision")
    .selectAll()
    .where("status", "in", [...runningStatuses])
    .where((eb) =>
      eb.or([
        eb("heartbeat_at", "<", silentSince),
        eb.and([eb("heartbeat_at", "is", null), eb("updated_at", "<", silentSince)]),
      ]),
    )
    .orderBy("updated_at", "asc")
    .limit(100)
    .execute();
}

/**
 * Revisions generating since before `startedBefore` whose sandbox (still running) has sent no event since then: a
 * runner that may not reach the platform. With the sandbox's id at its provider, to look inside.
 */
export async function findUnheardRunners(db: Executor, startedBefore: number) {
  return (
    db
      .selectFrom("revision")
      .innerJoin("sandbox", "sandbox.id", "revision.sandbox_id")
      .selectAll("revision")
      .select("sandbox.external_id as sandbox_external_id")
      .where("revision.status", "=", "generating")
      // The move to generating is the revision's last update before its runner starts.
      .where("revision.updated_at", "<", startedBefore)
      .where("sandbox.stopped_at", "is", null)
      .where((eb) =>
        eb.or([
          eb("sandbox.last_event_at", "is", null),
          eb("sandbox.last_event_at", "<", eb.ref("revision.updated_at")),
        ]),
      )
      .orderBy("revision.updated_at", "asc")
      .limit(100)
      .execute()
  );
}

/** Where a checkpoint's preview and deployment listen inside the platform (the preview proxy's upstreams). */
export async function findRevisionUpstreams(
  db: Executor,
  revisionId: string,
): Promise<{ preview_url: string | null; deploy_url: string | null } | undefined> {
  return db
    .selectFrom("revision")
    .select(["preview_url", "deploy_url"])
    .where("id", "=", revisionId)
    .executeTakeFirst();
}

/** Where the project's published checkpoint's deployment listens; null when unpublished (or it has none). */
export async function findPublishedUpstream(db: Executor, projectId: string): Promise<string | null> {
  const row = await db
    .selectFrom("project")
    .innerJoin("revision", (join) =>
      join
        .onRef("revision.id", "=", "project.published_revision_id")
        .onRef("revision.project_id", "=", "project.id"),
    )
    .select("revision.deploy_url")
    .where("project.id", "=", projectId)
    .executeTakeFirst();
  return row?.deploy_url ?? null;
}

/**
 * Running revisions no live app server holds (no lease, or its lease ran out): the recovery scan decides for each
 * whether it must be carried on (src/server/maintenance/recover-revisions.ts).
 */
export async function findUnleasedRunningRevisions(
  db: Executor,
  runningStatuses: readonly string[],
  now: number,
) {
  return db
    .selectFrom("revision")
    .selectAll()
    .where("status", "in", [...runningStatuses])
    .where((eb) => eb.or([eb("lease_owner", "is", null), eb("lease_expires_at", "<", now)]))
    .orderBy("created_at", "asc")
    .limit(200)
    .execute();
}

/** The ids of an operator's running revisions (to cancel them when an admin disables the operator). */
export async function listRunningRevisionIdsOfUser(
  db: Executor,
  userId: string,
  runningStatuses: readonly string[],
): Promise<string[]> {
  const rows = await db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .select("revision.id")
    .where((eb) => projectOwnedBy(eb, userId))
    .where("revision.status", "in", [...runningStatuses])
    .execute();
  return rows.map((row) => row.id);
}
