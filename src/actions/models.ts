"use server";

import { z } from "zod";
import { modelProviders } from "@/agents/models";
import { listProviderModels, type ProviderModels } from "@/server/operations/list-provider-models";
import { authedAction } from "./safe-action";

/** The model picker's list: what the operator's OpenAI-compatible server serves (the same call as GET /api/v1/models). */
export const listModelsAction = authedAction(
  "listModels",
  z.object({ provider: z.enum(modelProviders) }),
  async ({ provider }, { operator, platform }): Promise<ProviderModels> =>
    listProviderModels(platform, operator.id, provider),
);
