import { z } from "zod";
import { modelNameSchema, modelProviderSchema, providerOfRun, providerRefusal } from "@/agents/models";
import { storedAgentKind } from "@/agents/registry";
import type { Database, Executor } from "@/server/db/connection";
import { isUniqueViolation } from "@/server/db/dialect";
import { updateProjectRow } from "@/server/db/queries/pipeline";
import { findRevisionOfUser, insertRevision, listRevisionsOfTask } from "@/server/db/queries/revisions";
import { findTaskOfUser } from "@/server/db/queries/tasks";
import type { Revision } from "@/server/db/schema";
import { inTransaction } from "@/server/db/transaction";
import { AppError } from "@/server/errors";
import { newId } from "@/server/ids";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { isTerminal } from "@/server/revisions/state-machine";
import { assertBranchRetained, type RetentionContext } from "./assert-branch-retained";
import { queuedRevisionRow } from "./queued-revision";
import { toRevisionDto } from "./revision-dto";
import type { RevisionDto } from "./revision-types";

export const followUpInputSchema = z.object({
  prompt: z
    .string({ error: "Describe the change you want" })
    .trim()
    .min(3, "Describe the change in a few words")
    .max(20_000, "Keep the prompt under 20,000 characters"),
  /** Another provider or model for this checkpoint; default: the latest checkpoint's. The agent stays the task's. */
  provider: modelProviderSchema.optional(),
  model: modelNameSchema.optional(),
});
export type FollowUpInput = z.input<typeof followUpInputSchema>;

/** Checks run first in the transaction that records the new revision (the operator's quotas). */
export type RevisionGuard = (tx: Executor, now: number) => Promise<void>;

function assertIdle(revisions: Revision[]): void {
  const running = revisions.find((revision) => !isTerminal(revision.status));
  if (running) {
    throw new AppError(
      "conflict:revision_state",
      `Checkpoint ${running.ordinal} is still ${running.status}: wait for it to finish or cancel it first.`,
    );
  }
}

async function insertNext(
  db: Database,
  origins: PreviewOrigins,
  revisions: Revision[],
  fields: Pick<
    Revision,
    | "kind"
    | "prompt"
    | "agent"
    | "model"
    | "model_provider"
    | "parent_revision_id"
    | "restored_from_revision_id"
  >,
  base: Pick<Revision, "project_id" | "task_id">,
  guard: RevisionGuard | undefined,
): Promise<RevisionDto> {
  const now = Date.now();
  const row = queuedRevisionRow(
    {
      id: newId("revision"),
      project_id: base.project_id,
      task_id: base.task_id,
      ...fields,
      ordinal: Math.max(0, ...revisions.map((revision) => revision.ordinal)) + 1,
    },
    now,
  );
  try {
    await inTransaction(db, async (tx) => {
      await guard?.(tx, now);
      await insertRevision(tx, row);
    });
  } catch (error) {
    // Two requests raced for the same ordinal: the other one won.
    if (isUniqueViolation(error))
      throw new AppError("conflict:revision_state", "Another checkpoint was just started.");
    throw error;
  }
  await updateProjectRow(db, base.project_id, { last_activity_at: now });
  return toRevisionDto(
    { ...row, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost_usd_micros: 0, usage_estimated: 0 },
    origins,
  );
}

/** A follow-up prompt: a new checkpoint built on the task's latest committed one (code, data and agent session). */
export async function createFollowUp(
  db: Database,
  origins: PreviewOrigins,
  userId: string,
  input: { projectId: string; taskId: string } & FollowUpInput,
  guard?: RevisionGuard,
): Promise<RevisionDto> {
  const parsed = followUpInputSchema.parse(input);
  const revisions = await listRevisionsOfTask(db, userId, input.projectId, input.taskId);
  if (!revisions) throw new AppError("not_found:task");
  assertIdle(revisions);
  const committed = [...revisions].reverse().find((revision) => revision.commit_sha !== null);
  const latest = revisions.at(-1);
  if (!latest) throw new AppError("not_found:task");
  // A task none of whose checkpoints committed yet builds on what it was started from (another task's
  // checkpoint), not on the main branch's template.
  const parentId = committed?.id ?? revisions[0]?.parent_revision_id ?? null;
  const choice = followUpModel(latest, parsed);
  return insertNext(
    db,
    origins,
    revisions,
    {
      kind: "prompt",
      prompt: parsed.prompt,
      agent: latest.agent,
      ...choice,
      parent_revision_id: parentId,
      restored_from_revision_id: null,
    },
    latest,
    guard,
  );
}

/**
 * The provider and model of a follow-up: what it names, else the latest checkpoint's. A provider the task's agent
 * cannot use, or an OpenAI-compatible server without a model, is refused.
 */
function followUpModel(
  latest: Revision,
  input: z.output<typeof followUpInputSchema>,
): Pick<Revision, "model" | "model_provider"> {
  const agent = storedAgentKind(latest.agent);
  const provider =
    input.provider ?? providerOfRun({ agent: latest.agent, modelProvider: latest.model_provider }, null);
  const refusal = providerRefusal(agent, provider);
  if (refusal) throw new AppError("bad_request:input", refusal, { fields: { provider: [refusal] } });
  const providerChanged =
    provider !== providerOfRun({ agent: latest.agent, modelProvider: latest.model_provider }, null);
  const model = input.model ?? (providerChanged ? null : latest.model);
  if (provider === "openai-compatible" && !model) {
    const message = "Name the model to use on the OpenAI-compatible server";
    throw new AppError("bad_request:input", message, { fields: { model: [message] } });
  }
  return { model, model_provider: provider };
}

/**
 * Restore: a new checkpoint whose code is R's commit and whose database is a branch of R's branch. On R's own task
 * by default; `ontoTaskId` names another task of the project (a promote: a task's checkpoint onto the main task).
 */
export async function createRestore(
  db: Database,
  origins: PreviewOrigins,
  userId: string,
  revisionId: string,
  retention: RetentionContext = {},
  options: {
    /** Another task of the project to restore onto (a promote); default: the checkpoint's own. */
    ontoTaskId?: string;
    /** Checks run in the transaction that records the checkpoint (quotas). */
    guard?: RevisionGuard;
  } = {},
): Promise<RevisionDto> {
  const { ontoTaskId, guard } = options;
  const target = await findRevisionOfUser(db, userId, revisionId);
  if (!target) throw new AppError("not_found:revision");
  const taskId = ontoTaskId ?? target.task_id;
  const [revisions, fromTask] = await Promise.all([
    listRevisionsOfTask(db, userId, target.project_id, taskId),
    taskId === target.task_id ? undefined : findTaskOfUser(db, userId, target.project_id, target.task_id),
  ]);
  // A task of another project (or nobody's) is as unknown as a missing one.
  if (!revisions) throw new AppError("not_found:task");
  if (target.status !== "finished" || !target.commit_sha || !target.db_branch_id) {
    throw new AppError(
      "conflict:revision_state",
      "Only a finished checkpoint with a commit and a database can be restored.",
    );
  }
  await assertBranchRetained(db, target, "restored", retention);
  assertIdle(revisions);
  return insertNext(
    db,
    origins,
    revisions,
    {
      kind: "restore",
      prompt: fromTask
        ? `Promote checkpoint ${target.ordinal} of ${fromTask.branch}`
        : `Restore checkpoint ${target.ordinal}`,
      agent: target.agent,
      model: target.model,
      model_provider: target.model_provider,
      parent_revision_id: target.id,
      restored_from_revision_id: target.id,
    },
    { project_id: target.project_id, task_id: taskId },
    guard,
  );
}
