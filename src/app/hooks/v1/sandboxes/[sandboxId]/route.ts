import { errorResponse } from "@/server/entry/api-route";
import { handleSandboxWebhook, readBodyWithLimit } from "@/server/events/webhook";
import { scheduleRunnerEvents } from "@/server/operations/schedule";
import { getPlatform } from "@/server/platform/get-platform";

// Authenticated by the per-sandbox HMAC signature, not by a session or API token (docs/pipeline.md "Webhook").

export async function POST(request: Request, context: { params: Promise<{ sandboxId: string }> }) {
  try {
    const { sandboxId } = await context.params;
    const rawBody = await readBodyWithLimit(request);
    const platform = await getPlatform();
    const result = await handleSandboxWebhook(
      { sandboxId, headers: request.headers, rawBody },
      {
        db: platform.db,
        credentials: platform.credentials,
        platformSecrets: platform.platformSecrets,
        onIngested: (result) => scheduleRunnerEvents(platform, result),
      },
    );
    return Response.json(result, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
