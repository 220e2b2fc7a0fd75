import { type AgentKind, isAgentKind } from "@/server/toolchains/versions";

/**
 * Default models per agent, used when a project names none. One place to change when vendors move on. Codex only
 * offers its apply_patch tool for model slugs it knows (gpt-5.5 is one; gpt-5.1-codex is not, in Codex 0.169).
 */
export const defaultAgentModel: Record<AgentKind, string> = {
  codex: "gpt-5.5",
  "claude-code": "claude-sonnet-5",
};

/** The planner speaks to the same vendor as the project's agent. */
export const plannerFor: Record<AgentKind, { provider: "openai" | "anthropic"; model: string }> = {
  codex: { provider: "openai", model: "gpt-5.5" },
  "claude-code": { provider: "anthropic", model: "claude-sonnet-5" },
};

/** The agent a revision runs: its own if known, else Codex (the same fallback everywhere). */
export function agentOfRevision(agent: string): AgentKind {
  return isAgentKind(agent) ? agent : "codex";
}

/**
 * The one model a revision's agent runs on: the revision's, else the project's, else the agent's default. The
 * runner is told this model and the gateway serves the run's token nothing else.
 */
export function modelOfRun(
  run: { agent: string; model: string | null },
  projectModel: string | null,
): string {
  return run.model ?? projectModel ?? defaultAgentModel[agentOfRevision(run.agent)];
}
