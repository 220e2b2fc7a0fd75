import type { Database } from "@/server/db/connection";
import { findRevisionById, getProjectById, getTaskById } from "@/server/db/queries/pipeline";
import type { Project, Revision, Task } from "@/server/db/schema";
import type { Providers } from "@/server/integrations/registry";
import type { PlanForOperatorInput } from "@/server/planner/plan-for-operator";
import type { Plan } from "@/server/planner/plan-schema";
import type { FinishDeps, FinishSettings } from "./finish-revision";
import type { ProvisionContext } from "./steps/provision";

/** What the pipeline's steps need, built once by the composition root (src/server/platform/wire-platform.ts). */
export type PipelineDeps = ProvisionContext & {
  finish: FinishSettings;
  /** Where sandboxes reach the platform (the gateway and the webhook live under it). */
  publicUrl: string;
  /** Plans with the provider of the project's agent, using the operator's credential (or the platform's). */
  plan(input: PlanForOperatorInput): Promise<Plan>;
  runnerBundle(): Promise<{ file: string }>;
  runTokenTtlMs: number;
};

/** What following a runner's events needs: the providers are per project, looked up from each batch's revision. */
export type RunnerEventDeps = Omit<FinishDeps, "providers"> & {
  providersFor(project: Project): Promise<Providers>;
  /** Bound on the preview's health check. Default 60 s. */
  previewTimeoutMs?: number;
};

/** A revision with what its steps read: its project, its task, and the checkpoint it starts from. */
export type LoadedRevision = {
  project: Project;
  task: Task;
  revision: Revision;
  parent: Revision | undefined;
};

export async function loadRevision(db: Database, revisionId: string): Promise<LoadedRevision | undefined> {
  const revision = await findRevisionById(db, revisionId);
  if (!revision) return undefined;
  const [project, task, parent] = await Promise.all([
    getProjectById(db, revision.project_id),
    getTaskById(db, revision.task_id),
    revision.parent_revision_id
      ? findRevisionById(db, revision.parent_revision_id)
      : Promise.resolve(undefined),
  ]);
  return { project, task, revision, parent };
}
