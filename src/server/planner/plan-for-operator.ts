import { plannerFor } from "@/agents/models";
import type { AgentKind } from "@/agents/registry";
import {
  type CredentialContext,
  isTrustedModelUrl,
  resolveCredential,
} from "@/server/credentials/credential-store";
import type { Database } from "@/server/db/connection";
import { AppError } from "@/server/errors";
import { planApp } from "./plan-app";
import type { Plan } from "./plan-schema";

/**
 * Plans a first prompt with the vendor of the project's agent, using the operator's key (or the platform's). No
 * key at all is the operator's to fix, so it says where.
 */
export async function planForOperator(
  db: Database,
  credentials: CredentialContext,
  input: { userId: string; agent: AgentKind; prompt: string },
): Promise<Plan> {
  const planner = plannerFor(input.agent);
  const credential = await resolveCredential(db, credentials, input.userId, planner.provider);
  if (!credential) {
    const vendor = planner.provider === "openai" ? "OpenAI" : "Anthropic";
    throw new AppError(
      "bad_request:input",
      `No ${vendor} key is set: add one in Settings to build with this agent.`,
    );
  }
  return planApp({
    prompt: input.prompt,
    provider: planner.provider,
    model: planner.model,
    apiKey: credential.payload.apiKey,
    baseUrl: credential.payload.baseUrl,
    allowPrivateBaseUrl: isTrustedModelUrl(credentials, credential),
  });
}
