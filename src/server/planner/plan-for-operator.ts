import type { ModelVendor } from "@/agents/agent-definition";
import { type ModelProvider, plannerFor } from "@/agents/models";
import type { AgentKind } from "@/agents/registry";
import {
  type CredentialContext,
  isTrustedModelUrl,
  resolveCredential,
} from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { AppError } from "@/server/errors";
import { type ModelPrice, parseDefaultPrice, priceOf } from "@/server/gateway/prices";
import { recordUsage } from "@/server/gateway/record-usage";
import { type PlannerUsage, planApp } from "./plan-app";
import type { Plan } from "./plan-schema";
import type { StartingPoint } from "./prompts";

export type PlanForOperatorInput = {
  userId: string;
  agent: AgentKind;
  prompt: string;
  /** Who serves the project's agent: the planner asks the same (one credential serves both). */
  provider: ModelProvider;
  /** The agent's model: on an OpenAI-compatible server, the planner's too unless its credential names another. */
  model: string;
  /** Where the planner's usage is counted, like the agent's. */
  projectId: string;
  revisionId: string;
  /** What the app builds on: Kiln's template, or an imported repository. */
  startingPoint: StartingPoint;
};

/**
 * Plans a first prompt with the provider of the project's agent, using the operator's credential (or the
 * platform's). No credential is the operator's to fix, so it says where. Each planning call is a usage row of the
 * revision, priced like the agent's calls: a model without any price is refused before anything is asked.
 */
export type PlannerSettings = {
  /** The price of a model Kiln has no list price for (KILN_GATEWAY_DEFAULT_PRICE). */
  defaultPrice?: ModelPrice;
  /** The planner's model on a vendor, instead of the agent definition's (OPENAI_/ANTHROPIC_PLANNER_MODEL). */
  models?: Partial<Record<ModelVendor, string>>;
};

export async function planForOperator(
  db: Database,
  credentials: CredentialContext,
  input: PlanForOperatorInput,
  settings: PlannerSettings = {},
): Promise<Plan> {
  const { defaultPrice } = settings;
  const record =
    (fixedPrice: ModelPrice | undefined, price: ModelPrice | undefined) => async (usage: PlannerUsage) => {
      await recordUsage(db, {
        projectId: input.projectId,
        revisionId: input.revisionId,
        provider: usage.provider,
        model: usage.model,
        usage: {
          inputTokens: usage.inputTokens,
          cachedTokens: usage.cachedTokens,
          cacheWriteTokens: 0,
          outputTokens: usage.outputTokens,
        },
        price,
        fixedPrice,
        estimated: usage.estimated,
      });
    };

  if (input.provider === "openai-compatible") {
    const credential = await resolveCredential(db, credentials, input.userId, "openai-compatible");
    if (!credential) {
      throw new AppError(
        "bad_request:input",
        "No OpenAI-compatible server is set: add one in Settings (or the platform's OPENAI_COMPATIBLE_BASE_URL) to build with it.",
      );
    }
    const model = credential.payload.plannerModel ?? input.model;
    const fixedPrice = parseDefaultPrice(credential.payload.price);
    const price = fixedPrice ?? priceOf(model) ?? defaultPrice;
    if (!price) throw unpriced(model);
    return planApp({
      prompt: input.prompt,
      provider: "openai-compatible",
      model,
      apiKey: credential.payload.apiKey ?? "",
      baseUrl: credential.payload.baseUrl,
      allowPrivateBaseUrl: isTrustedModelUrl(credentials, credential),
      onUsage: record(fixedPrice, price),
      startingPoint: input.startingPoint,
    });
  }

  const vendorPlanner = plannerFor(input.agent);
  const planner = {
    ...vendorPlanner,
    model: settings.models?.[vendorPlanner.provider] ?? vendorPlanner.model,
  };
  const credential = await resolveCredential(db, credentials, input.userId, planner.provider);
  if (!credential) {
    const vendor = planner.provider === "openai" ? "OpenAI" : "Anthropic";
    throw new AppError(
      "bad_request:input",
      `No ${vendor} key is set: add one in Settings to build with this agent.`,
    );
  }
  const price = priceOf(planner.model) ?? defaultPrice;
  if (!price) throw unpriced(planner.model);
  return planApp({
    prompt: input.prompt,
    provider: planner.provider,
    model: planner.model,
    apiKey: credential.payload.apiKey,
    baseUrl: credential.payload.baseUrl,
    allowPrivateBaseUrl: isTrustedModelUrl(credentials, credential),
    onUsage: record(undefined, price),
    startingPoint: input.startingPoint,
  });
}

function unpriced(model: string): AppError {
  return new AppError(
    "bad_request:input",
    `Kiln has no price for the model "${model.slice(0, 100)}", so it cannot keep runs within their budget. Set a price on the OpenAI-compatible server in Settings ("0,0" for your own GPUs), or the platform can set KILN_GATEWAY_DEFAULT_PRICE.`,
  );
}
