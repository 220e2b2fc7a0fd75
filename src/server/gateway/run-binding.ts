import { modelOfRun } from "@/agents/models";
import { agentDefinition, storedAgentKind } from "@/agents/registry";
import type { MeteredRun } from "@/server/db/queries/usage";
import { type ModelPrice, priceOf } from "./prices";
import { type GatewayProtocol, providerOf, vendorLabel } from "./protocols";

/**
 * What a run token opens: the protocol of its run's agent, and its run's model (plus what the platform allows on
 * top), at a known price. Everything is read from the revision row the signed token names, never from the request.
 */

export type ModelPolicy = {
  /** Models any run of the matching vendor may also use (KILN_GATEWAY_EXTRA_MODELS). */
  extraModels: readonly string[];
  /** The price of a model Kiln has no list price for (KILN_GATEWAY_DEFAULT_PRICE); none: such models are refused. */
  defaultPrice: ModelPrice | undefined;
  /** The price of every model of this upstream (an OpenAI-compatible server's credential says), before list prices. */
  fixedPrice?: ModelPrice;
};

export type Refusal = { status: number; code: string; message: string };

/** A run speaks its agent's vendor's protocol only (a Codex run OpenAI Responses, a Claude Code run Anthropic Messages). */
export function vendorRefusal(protocol: GatewayProtocol, run: MeteredRun): Refusal | undefined {
  const agent = agentDefinition(storedAgentKind(run.agent));
  if (providerOf[protocol] === agent.vendor) return undefined;
  return {
    status: 403,
    code: "vendor_not_allowed",
    message: `This run token belongs to a ${agent.label} run; it cannot call the ${vendorLabel[providerOf[protocol]]} API.`,
  };
}

/** The run's model (or an allowed extra) at a known price; what to refuse otherwise. */
export function checkRequestedModel(
  run: MeteredRun,
  requested: string | undefined,
  policy: ModelPolicy,
): { ok: true; model: string; price: ModelPrice } | { ok: false; refusal: Refusal } {
  const runModel = modelOfRun(run, run.projectModel);
  if (requested === undefined) {
    return {
      ok: false,
      refusal: { status: 400, code: "model_missing", message: "The request names no model." },
    };
  }
  if (requested !== runModel && !policy.extraModels.includes(requested)) {
    return {
      ok: false,
      refusal: {
        status: 403,
        code: "model_not_allowed",
        message: `This run may only use the model "${runModel}"${policy.extraModels.length > 0 ? ` (or ${policy.extraModels.map((m) => `"${m}"`).join(", ")})` : ""}, not "${requested.slice(0, 100)}".`,
      },
    };
  }
  const price = policy.fixedPrice ?? priceOf(requested) ?? policy.defaultPrice;
  if (!price) {
    return {
      ok: false,
      refusal: {
        status: 403,
        code: "model_unpriced",
        message: `Kiln has no price for the model "${requested.slice(0, 100)}", so it cannot keep the run within its budget. Set a price on the OpenAI-compatible server in Settings ("0,0" for your own GPUs), or the platform can set KILN_GATEWAY_DEFAULT_PRICE.`,
      },
    };
  }
  return { ok: true, model: requested, price };
}

/** The `model` of a JSON request body; undefined when there is none (or the body is not JSON). */
export function modelOfRequestBody(body: Uint8Array): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof json === "object" && json !== null && "model" in json && typeof json.model === "string") {
    return json.model;
  }
  return undefined;
}
