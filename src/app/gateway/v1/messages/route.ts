import { serveGateway } from "@/server/gateway/serve-gateway";
import { getPlatform } from "@/server/platform/get-platform";

// Anthropic Messages API for Claude Code (`?beta=true` is passed on). Authenticated by the run token, not by a
// session (see docs/pipeline.md).
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request): Promise<Response> {
  return serveGateway("anthropic-messages", request, async () => (await getPlatform()).gatewayDeps());
}
