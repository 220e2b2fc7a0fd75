import type { ModelVendor } from "./agent-definition";
import { type AgentKind, agentDefinition, storedAgentKind } from "./registry";

// Which model an agent's work runs on. Here, below the gateway and the pipeline, because both must agree: the
// pipeline tells the runner the model and the gateway serves the run's token nothing else.

/** The planner speaks to the same vendor as the project's agent, so the operator's one key serves both. */
export function plannerFor(agent: AgentKind): { provider: ModelVendor; model: string } {
  const { vendor, plannerModel } = agentDefinition(agent);
  return { provider: vendor, model: plannerModel };
}

/** The one model a revision's agent runs on: the revision's, else the project's, else the agent's default. */
export function modelOfRun(
  run: { agent: string; model: string | null },
  projectModel: string | null,
): string {
  return run.model ?? projectModel ?? agentDefinition(storedAgentKind(run.agent)).defaultModel;
}
