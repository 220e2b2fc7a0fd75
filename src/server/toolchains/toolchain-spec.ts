import type { ToolchainPin } from "@/agents/agent-definition";
import { type AgentKind, agentDefinition, agentKinds } from "@/agents/registry";

/**
 * An agent's pinned CLI as the toolchain cache installs it. The pins themselves live in
 * each agent's definition (src/agents/<agent>/definition.ts).
 */
export type ToolchainSpec = ToolchainPin & {
  agent: AgentKind;
  /** What operators read in progress messages and errors. */
  label: string;
};

export function toolchainSpec(agent: AgentKind): ToolchainSpec {
  const { label, toolchain } = agentDefinition(agent);
  return { agent, label, ...toolchain };
}

/** Every agent's pinned CLI. */
export const pinnedToolchains: readonly ToolchainSpec[] = agentKinds.map(toolchainSpec);
