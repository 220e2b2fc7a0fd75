import "server-only";
import { env } from "@/env";
import { getCredentialContext, getDb } from "@/server/context";
import { logError } from "@/server/http/log";
import { parseDefaultPrice } from "./prices";
import { type GatewayProtocol, gatewayError } from "./protocols";
import { type GatewayDeps, handleGatewayRequest } from "./proxy";
import { credentialUpstreamResolver } from "./upstream";

/** The gateway's dependencies in the running app: the shared pool, the secret key, credentials, env budgets. */
async function gatewayDeps(): Promise<GatewayDeps> {
  const db = await getDb();
  const credentials = getCredentialContext();
  return {
    db,
    secretKey: credentials.key,
    resolveUpstream: credentialUpstreamResolver(db, credentials),
    budget: {
      tokens: env.KILN_RUN_BUDGET_TOKENS,
      usdMicros: Math.round(env.KILN_RUN_BUDGET_USD * 1_000_000),
    },
    models: {
      extraModels: env.KILN_GATEWAY_EXTRA_MODELS,
      defaultPrice: parseDefaultPrice(env.KILN_GATEWAY_DEFAULT_PRICE),
    },
  };
}

/** What the gateway routes call: no session auth here, the run token is the credential. */
export async function serveGateway(protocol: GatewayProtocol, request: Request): Promise<Response> {
  let deps: GatewayDeps;
  try {
    deps = await gatewayDeps();
  } catch (error) {
    // No secret key or no database: nothing can be verified, and the operator must see why in the log.
    logError("gateway", error);
    return gatewayError(protocol, 500, {
      type: "api_error",
      code: "internal:unexpected",
      message: "The Kiln model gateway is not configured; the Kiln server log has the details.",
    });
  }
  return handleGatewayRequest({ protocol, request }, deps);
}
