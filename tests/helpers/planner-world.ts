import { randomBytes } from "node:crypto";
import { createOperator } from "@/server/auth/operators";
import { type CredentialContext, saveCredential } from "@/server/credentials/credential-store";
import { type ModelServer, startModelServer } from "../fakes/model-server";
import type { DatabaseFactory, TestDatabase } from "./databases";

/**
 * A database, the scripted model server playing OpenAI (answering the `plan-todo` scenario), and one operator whose
 * saved OpenAI credential points at it: what a test of the planner's calls through the platform needs.
 */
export type PlannerWorld = {
  t: TestDatabase;
  models: ModelServer;
  credentials: CredentialContext;
  userId: string;
  close(): Promise<void>;
};

export async function openPlannerWorld(factory: DatabaseFactory): Promise<PlannerWorld> {
  const openaiKey = `sk-planner-${randomBytes(8).toString("hex")}`;
  const t = await factory.open();
  const models = await startModelServer({ scenario: "plan-todo", auth: { bearer: openaiKey } });
  const credentials: CredentialContext = {
    key: randomBytes(32),
    endpoints: {
      githubApiUrl: "http://127.0.0.1:1",
      vercelApiUrl: "http://127.0.0.1:1",
      tidbCloudApiUrl: "http://127.0.0.1:1",
      openaiBaseUrl: models.openaiBaseUrl,
      anthropicBaseUrl: models.url,
      allowPrivateModelUrls: true,
    },
    platformDefaults: {},
    // The key is the scripted server's: nothing to ask a vendor.
    verify: async () => ({ status: "verified", detail: "the scripted model server" }),
  };
  const { id: userId } = await createOperator(
    t.db,
    { email: "planner@example.com", password: "correct horse battery" },
    { bcryptCost: 4 },
  );
  await saveCredential(t.db, credentials, userId, {
    kind: "openai",
    apiKey: openaiKey,
    baseUrl: models.openaiBaseUrl,
  });
  return {
    t,
    models,
    credentials,
    userId,
    async close() {
      await models.close();
      await t.drop();
    },
  };
}
