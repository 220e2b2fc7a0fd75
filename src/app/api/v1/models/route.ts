import { z } from "zod";
import { modelProviders } from "@/agents/models";
import { apiRoute, noBody, noParams } from "@/server/entry/api-route";
import { parseOrThrow } from "@/server/http/parse-input";
import { listProviderModels } from "@/server/operations/list-provider-models";

const querySchema = z.object({ provider: z.enum(modelProviders).default("openai-compatible") });

export const GET = apiRoute({ params: noParams, body: noBody }, async ({ operator, platform, request }) => {
  const query = parseOrThrow(querySchema, Object.fromEntries(new URL(request.url).searchParams));
  return Response.json(await listProviderModels(platform, operator.id, query.provider));
});
