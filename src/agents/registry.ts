import { z } from "zod";
import type { AgentDefinition } from "./agent-definition";
import { claudeCodeAgent } from "./claude-code/definition";
import { codexAgent } from "./codex/definition";

/**
 * The coding agents Kiln can run. Adding one: a folder beside codex/ with its definition, and a line here. Nothing
 * else in the platform or the runner names an agent.
 */
const definitions = [codexAgent, claudeCodeAgent] as const;

export type AgentKind = (typeof definitions)[number]["kind"];

export const agentKinds: readonly AgentKind[] = definitions.map((definition) => definition.kind);

/** The agent of a project that names none. */
export const defaultAgentKind: AgentKind = "codex";

export class UnknownAgentError extends Error {
  override readonly name = "UnknownAgentError";
}

const known = agentKinds.map((kind) => JSON.stringify(kind)).join(" or ");

export function findAgentDefinition(kind: string): AgentDefinition<AgentKind> | undefined {
  return definitions.find((definition) => definition.kind === kind);
}

export function agentDefinition(kind: AgentKind): AgentDefinition<AgentKind> {
  const definition = findAgentDefinition(kind);
  // Unreachable for a typed kind; reached only through a cast.
  if (!definition) throw new UnknownAgentError(`Unknown agent ${JSON.stringify(kind)}.`);
  return definition;
}

/** An agent named at a boundary (the API, the new-project form), for zod schemas. */
export const agentKindSchema = z.enum(agentKinds, { error: `Agent must be ${known}` });

/**
 * An agent named from outside (a request, a command-line flag): none means the default, an unknown name is an
 * UnknownAgentError that says which agents there are.
 */
export function parseAgentKind(value: string | undefined): AgentKind {
  if (value === undefined) return defaultAgentKind;
  const definition = findAgentDefinition(value);
  if (!definition)
    throw new UnknownAgentError(`Unknown agent ${JSON.stringify(value)}: it must be ${known}.`);
  return definition.kind;
}

/**
 * The agent a stored project or revision runs. Rows are written through `agentKindSchema`; one naming an agent
 * this Kiln does not have (written by a newer version) runs as the default, as it always has.
 */
export function storedAgentKind(value: string): AgentKind {
  return findAgentDefinition(value)?.kind ?? defaultAgentKind;
}
