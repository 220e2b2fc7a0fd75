import "server-only";
import { logError } from "@/server/http/log";
import { type GatewayProtocol, gatewayError } from "./protocols";
import { type GatewayDeps, handleGatewayRequest } from "./proxy";

/** What the gateway routes call: no session auth here, the run token is the credential. */
export async function serveGateway(
  protocol: GatewayProtocol,
  request: Request,
  gatewayDeps: () => Promise<GatewayDeps>,
): Promise<Response> {
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
