import { z } from "zod";
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

/**
 * Who serves an agent's model: the agent's own vendor (its native protocol), or any OpenAI-compatible server
 * (Ollama, vLLM, LM Studio, OpenRouter, a LiteLLM proxy), which the gateway reaches over Chat Completions and
 * translates for the CLI.
 */
export const modelProviders = ["openai", "anthropic", "openai-compatible"] as const;
export type ModelProvider = (typeof modelProviders)[number];

/** The provider a revision's agent runs on: the revision's, else the project's, else the agent's vendor. */
export function providerOfRun(
  run: { agent: string; modelProvider: string | null },
  projectProvider: string | null,
): ModelProvider {
  const stored = run.modelProvider ?? projectProvider;
  // An agent runs on its own vendor or an OpenAI-compatible server, nothing else: a stored vendor that is not the
  // agent's (a row whose agent was changed) means the agent's own.
  if (stored === "openai-compatible") return stored;
  return agentDefinition(storedAgentKind(run.agent)).vendor;
}

/**
 * Whether an agent can run on a provider: its own vendor, or an OpenAI-compatible server (through the gateway's
 * translation); never the other vendor's native protocol. Undefined when it can; the reason otherwise.
 */
export function providerRefusal(agent: AgentKind, provider: ModelProvider): string | undefined {
  const definition = agentDefinition(agent);
  if (provider === definition.vendor || provider === "openai-compatible") return undefined;
  return `${definition.label} runs on ${definition.vendor === "openai" ? "OpenAI" : "Anthropic"} or an OpenAI-compatible server, not ${provider === "openai" ? "OpenAI" : "Anthropic"}.`;
}

/** A provider named at a boundary (the API, the create and follow-up forms). */
export const modelProviderSchema = z.enum(modelProviders, {
  error: `Provider must be ${modelProviders.map((p) => JSON.stringify(p)).join(", ")}`,
});

/** A model name as the agent CLIs take it: no spaces, nothing that could pose as a flag. */
export const modelNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\s-]\S*$/, "A model name has no spaces and does not start with -");
