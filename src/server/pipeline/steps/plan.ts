import { modelOfRun, providerOfRun } from "@/agents/models";
import { storedAgentKind } from "@/agents/registry";
import { nameProjectUnlessRenamed, updateRevisionRow, updateTaskRow } from "@/server/db/queries/pipeline";
import type { Project } from "@/server/db/schema";
import { describeOrigin } from "@/server/integrations/git-host/import-source";
import type { Plan } from "@/server/planner/plan-schema";
import type { StartingPoint } from "@/server/planner/prompts";
import type { LoadedRevision, PipelineDeps } from "../pipeline-deps";
import { emit, type RunScope, runStep } from "../run-step";

/**
 * Plan: one structured call turns the operator's first prompt into a title and the agent's instructions. The
 * title names the project and its main task; a follow-up is never planned (the agent gets the operator's words).
 */
export async function planStep(
  deps: Pick<PipelineDeps, "db" | "plan">,
  scope: RunScope,
  loaded: LoadedRevision,
  resume = false,
): Promise<Plan | undefined> {
  const agent = storedAgentKind(loaded.revision.agent);
  return runStep(
    scope,
    "planning",
    "plan",
    async () => {
      const { project, revision } = loaded;
      const plan = await deps.plan({
        userId: project.user_id,
        agent,
        prompt: revision.prompt,
        provider: providerOfRun(
          { agent: revision.agent, modelProvider: revision.model_provider },
          project.model_provider,
        ),
        model: modelOfRun(revision, project.model),
        projectId: scope.projectId,
        revisionId: scope.revisionId,
        startingPoint: startingPointOf(project),
      });
      const now = Date.now();
      await updateRevisionRow(deps.db, scope.revisionId, { plan: JSON.stringify(plan), updated_at: now });
      if (loaded.revision.ordinal === 1) {
        // The operator may have renamed the project while it was planned: their name wins over the title.
        await nameProjectUnlessRenamed(deps.db, scope.projectId, project.name, plan.title, now);
        await updateTaskRow(deps.db, scope.taskId, { title: plan.title, updated_at: now });
      }
      await emit(scope, {
        type: "plan",
        payload: { title: plan.title, slug: plan.slug, steps: plan.steps, prompt: plan.agentPrompt },
      });
      return plan;
    },
    resume,
  );
}

/** A project imported from a repository is planned as that repository, not as Kiln's template. */
function startingPointOf(project: Project): StartingPoint {
  return project.source_kind && project.source_location
    ? { kind: "import", origin: describeOrigin(project.source_kind, project.source_location) }
    : { kind: "template" };
}
