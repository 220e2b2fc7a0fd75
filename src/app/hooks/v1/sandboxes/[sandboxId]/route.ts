import { env } from "@/env";
import { getCredentialContext, getDb } from "@/server/context";
import { platformSecretsFromEnv } from "@/server/events/known-secrets";
import { handleSandboxWebhook, readBodyWithLimit } from "@/server/events/webhook";
import { errorResponse } from "@/server/http/api-route";
import { scheduleRunnerEvents } from "@/server/pipeline/schedule";

// Authenticated by the per-sandbox HMAC signature, not by a session or API token (docs/pipeline.md "Webhook").

const platformSecrets = platformSecretsFromEnv(env);

export async function POST(request: Request, context: { params: Promise<{ sandboxId: string }> }) {
  try {
    const { sandboxId } = await context.params;
    const rawBody = await readBodyWithLimit(request);
    const result = await handleSandboxWebhook(
      { sandboxId, headers: request.headers, rawBody },
      {
        db: await getDb(),
        credentials: getCredentialContext(),
        platformSecrets,
        onIngested: scheduleRunnerEvents,
      },
    );
    return Response.json(result, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
