import type { Executor } from "../connection";
import { projectOwnedBy } from "../predicates";
import type { NewRevision, Revision } from "../schema";

export async function insertRevision(db: Executor, revision: NewRevision): Promise<void> {
  await db.insertInto("revision").values(revision).execute();
}

export async function findRevisionOfUser(
  db: Executor,
  userId: string,
  revisionId: string,
): Promise<Revision | undefined> {
  return db
    .selectFrom("revision")
    .innerJoin("project", "project.id", "revision.project_id")
    .selectAll("revision")
    .where("revision.id", "=", revisionId)
    .where((eb) => projectOwnedBy(eb, userId))
    .executeTakeFirst();
}

export async function listRevisionsOfTask(
  db: Executor,
  userId: string,
  projectId: string,
  taskId: string,
): Promise<Revision[] | undefined> {
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
    .selectAll()
    .where("task_id", "=", taskId)
    .orderBy("ordinal", "asc")
    .execute();
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
