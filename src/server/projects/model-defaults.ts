import { z } from "zod";
import { modelNameSchema, modelProviderSchema, providerRefusal } from "@/agents/models";
import {
  type AgentKind,
  agentDefinition,
  agentKindSchema,
  defaultAgentKind,
  findAgentDefinition,
} from "@/agents/registry";
import type { Executor } from "@/server/db/connection";
import { AppError } from "@/server/errors";

/**
 * An operator's defaults for new projects (Settings): the agent, who serves its model, and the model. A request
 * that names its own wins; an empty field means Kiln's default (the registry's agent, the agent's vendor and model).
 */

export const modelDefaultsSchema = z
  .object({
    agent: agentKindSchema.optional(),
    provider: modelProviderSchema.optional(),
    model: z.union([modelNameSchema, z.literal("").transform(() => undefined)]).optional(),
  })
  .superRefine((input, ctx) => {
    if (!input.provider) return;
    const refusal = input.agent ? providerRefusal(input.agent, input.provider) : undefined;
    if (refusal) ctx.addIssue({ code: "custom", path: ["provider"], message: refusal });
    if (input.provider === "openai-compatible" && !input.model) {
      ctx.addIssue({
        code: "custom",
        path: ["model"],
        message: "Name the model to use on the OpenAI-compatible server",
      });
    }
  });
export type ModelDefaults = z.output<typeof modelDefaultsSchema>;

export async function getModelDefaults(db: Executor, userId: string): Promise<ModelDefaults> {
  const row = await db
    .selectFrom("user")
    .select(["default_agent", "default_model_provider", "default_model"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!row) throw new AppError("not_found:user");
  const agent = row.default_agent ? findAgentDefinition(row.default_agent)?.kind : undefined;
  const provider = modelProviderSchema.safeParse(row.default_model_provider);
  return {
    agent,
    provider: provider.success ? provider.data : undefined,
    model: row.default_model ?? undefined,
  };
}

export async function saveModelDefaults(
  db: Executor,
  userId: string,
  input: z.input<typeof modelDefaultsSchema>,
  now = Date.now(),
): Promise<ModelDefaults> {
  const parsed = modelDefaultsSchema.parse(input);
  await db
    .updateTable("user")
    .set({
      default_agent: parsed.agent ?? null,
      default_model_provider: parsed.provider ?? null,
      default_model: parsed.model ?? null,
      updated_at: now,
    })
    .where("id", "=", userId)
    .execute();
  return parsed;
}

/**
 * A create request completed from the defaults: the default agent when it names none; the default provider and
 * model when it names neither and the agent can run on that provider (a vendor's model means nothing to the other
 * vendor's agent).
 */
export function withModelDefaults<T extends { agent?: AgentKind; provider?: string; model?: string }>(
  input: T,
  defaults: ModelDefaults,
): T {
  const agent = input.agent ?? defaults.agent ?? defaultAgentKind;
  const out: T = { ...input, agent };
  if (input.provider !== undefined || input.model !== undefined || !defaults.provider) return out;
  const usable =
    defaults.provider === "openai-compatible" || agentDefinition(agent).vendor === defaults.provider;
  if (!usable) return out;
  return { ...out, provider: defaults.provider, ...(defaults.model ? { model: defaults.model } : {}) };
}
