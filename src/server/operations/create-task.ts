import { z } from "zod";
import type { Database } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { findProjectOfUser } from "@/server/db/queries/projects";
import {
  findNewestFinishedCheckpoint,
  findRevisionOfUser,
  insertRevision,
} from "@/server/db/queries/revisions";
import { insertShareSession } from "@/server/db/queries/share-links";
import { findMainTask, findTaskOfUser, insertTask, listTaskBranches } from "@/server/db/queries/tasks";
import type { Revision, Task } from "@/server/db/schema";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { newId, newShareSlug } from "@/server/ids";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { type TaskDto, toTaskDto } from "@/server/projects/project-dto";
import { assertBranchRetained, type RetentionContext } from "@/server/revisions/assert-branch-retained";
import type { RevisionGuard } from "@/server/revisions/create-revision";
import { queuedRevisionRow } from "@/server/revisions/queued-revision";
import { toRevisionDto } from "@/server/revisions/revision-dto";
import type { RevisionDto } from "@/server/revisions/revision-types";
import { provisionalName, slugify } from "./create-project";

// A task is a line of work on its own git branch, started from a finished checkpoint of any task of the project:
// its first checkpoint builds on that checkpoint's commit and on a branch of its database (docs/pipeline.md "Tasks").

export const createTaskInputSchema = z.object({
  prompt: z
    .string({ error: "Describe what the new task should do" })
    .trim()
    .min(3, "Describe the task in a few words")
    .max(20_000, "Keep the prompt under 20,000 characters"),
  /** The checkpoint to start from; default: the newest finished checkpoint of the main task. */
  fromRevisionId: z.string().min(1).max(40).optional(),
  title: z.string().trim().min(1).max(120).optional(),
});
export type CreateTaskInput = z.input<typeof createTaskInputSchema>;

export type CreatedTask = { task: TaskDto; revision: RevisionDto; session: { slug: string } };

/** Longest slug part of a task's branch name, so `task/<slug>-<n>` stays short enough to read. */
const MAX_BRANCH_SLUG = 40;

/**
 * The git branch of a project's `position`-th task (the main task is 1): `task/<slug of title>-<n>`, with `n` the
 * first number from `position` up that no branch in `taken` uses. The slug is lowercase letters, digits and
 * single dashes, so the name is always a valid git branch.
 */
export function taskBranchName(title: string, position: number, taken: readonly string[]): string {
  const full = slugify(title);
  const cut = full.slice(0, MAX_BRANCH_SLUG);
  // Cut at a word boundary when one is not too far back, so the name does not end mid-word.
  const lastDash = cut.lastIndexOf("-");
  const slug =
    (full.length > MAX_BRANCH_SLUG && lastDash > MAX_BRANCH_SLUG / 2 ? cut.slice(0, lastDash) : cut).replace(
      /-+$/g,
      "",
    ) || "task";
  const used = new Set(taken);
  for (let n = Math.max(1, position); ; n++) {
    const name = `task/${slug}-${n}`;
    if (!used.has(name)) return name;
  }
}

/** The checkpoint a new task starts from: the one named (any task of this project), else the main task's newest. */
async function sourceCheckpoint(
  db: Database,
  userId: string,
  projectId: string,
  fromRevisionId: string | undefined,
): Promise<{ source: Revision; sourceTask: Task }> {
  if (fromRevisionId) {
    const source = await findRevisionOfUser(db, userId, fromRevisionId);
    // Another project's checkpoint is as unknown here as another operator's.
    if (!source || source.project_id !== projectId) throw new AppError("not_found:revision");
    const sourceTask = await findTaskOfUser(db, userId, projectId, source.task_id);
    if (!sourceTask) throw new AppError("not_found:revision");
    if (source.status !== "finished" || !source.commit_sha || !source.db_branch_id) {
      throw new AppError(
        "conflict:revision_state",
        source.status === "finished"
          ? `Checkpoint ${source.ordinal} of ${sourceTask.branch} has no commit and database: a task starts from a finished checkpoint that has both.`
          : `Checkpoint ${source.ordinal} of ${sourceTask.branch} is ${source.status}: a task starts from a finished checkpoint. Wait for it to finish, or pick another.`,
      );
    }
    return { source, sourceTask };
  }
  const main = await findMainTask(db, projectId);
  const source = main ? await findNewestFinishedCheckpoint(db, main.id) : undefined;
  if (!main || !source) {
    throw new AppError(
      "conflict:revision_state",
      "The main task has no finished checkpoint yet: a task starts from one. Wait for the first build to finish, or name a finished checkpoint of another task (fromRevisionId).",
    );
  }
  return { source, sourceTask: main };
}

/**
 * Records a new task of the operator's project: the task (its own branch name), its first checkpoint (queued,
 * holding the prompt, its parent the source checkpoint, with the source's agent and model) and its own share link.
 * The pipeline picks the checkpoint up like any follow-up; nothing outside the database happens here.
 */
export async function createTask(
  db: Database,
  origins: PreviewOrigins,
  userId: string,
  input: { projectId: string } & CreateTaskInput,
  retention: RetentionContext = {},
  now = Date.now(),
  /** Checks run in the transaction that records the task (quotas). */
  guard?: RevisionGuard,
): Promise<CreatedTask> {
  const parsed = createTaskInputSchema.parse(input);
  const project = await findProjectOfUser(db, userId, input.projectId);
  if (!project) throw new AppError("not_found:project");
  const { source } = await sourceCheckpoint(db, userId, project.id, parsed.fromRevisionId);
  await assertBranchRetained(db, source, "branched into a new task", retention);
  const title = parsed.title ?? provisionalName(parsed.prompt);
  // The free-name check runs before the transaction; a concurrent task can take the name first, and the unique
  // key (project, branch) then refuses ours, so we pick again.
  for (let attempt = 1; ; attempt++) {
    const taken = await listTaskBranches(db, project.id);
    const branch = taskBranchName(title, taken.length + 1, taken);
    try {
      return await insertTaskRows(
        db,
        origins,
        { projectId: project.id, title, branch, source },
        parsed,
        now,
        guard,
      );
    } catch (error) {
      if (attempt >= 3 || !isUniqueViolation(error)) throw error;
    }
  }
}

async function insertTaskRows(
  db: Database,
  origins: PreviewOrigins,
  task: { projectId: string; title: string; branch: string; source: Revision },
  parsed: z.output<typeof createTaskInputSchema>,
  now: number,
  guard: RevisionGuard | undefined,
): Promise<CreatedTask> {
  const taskRow: Task = {
    id: newId("task"),
    project_id: task.projectId,
    title: task.title,
    branch: task.branch,
    status: "queued",
    created_at: now,
    updated_at: now,
  };
  const revisionRow = queuedRevisionRow(
    {
      id: newId("revision"),
      project_id: task.projectId,
      task_id: taskRow.id,
      ordinal: 1,
      kind: "prompt",
      prompt: parsed.prompt,
      agent: task.source.agent,
      model: task.source.model,
      model_provider: task.source.model_provider,
      // Across tasks: provisioning bases the checkpoint on this commit and branches this database.
      parent_revision_id: task.source.id,
      restored_from_revision_id: null,
    },
    now,
  );
  const slug = newShareSlug();
  await inTransaction(db, async (tx) => {
    await guard?.(tx, now);
    await insertTask(tx, taskRow);
    await insertRevision(tx, revisionRow);
    await insertShareSession(tx, {
      id: newId("session"),
      slug,
      project_id: task.projectId,
      task_id: taskRow.id,
      revoked_at: null,
      created_at: now,
      updated_at: now,
    });
    await updateProjectRow(tx, task.projectId, { last_activity_at: now });
  });
  return {
    task: toTaskDto(
      {
        ...taskRow,
        revision_count: 1,
        latest_revision_status: revisionRow.status,
        latest_prompt: revisionRow.prompt,
        latest_error: null,
      },
      false,
    ),
    revision: toRevisionDto(
      {
        ...revisionRow,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
        cost_usd_micros: 0,
        usage_estimated: 0,
      },
      origins,
    ),
    session: { slug },
  };
}
