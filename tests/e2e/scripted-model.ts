import { z } from "zod";
import { startFakeHttpServer } from "../fakes/http";
import { combineScenarios, startModelServer } from "../fakes/model-server";
import { E2E_MODEL_KEY, E2E_MODEL_PORT } from "./env";

// The e2e run's model vendor: the scripted OpenAI Responses / Anthropic Messages server (tests/fakes/model-server.ts)
// on a fixed port, answering the operator key the specs save, plus a control port where a spec switches the script
// (`POST /scenario {"parts": ["codex-add-username"]}`) before a follow-up. Started by playwright.config.ts.

const scenarioRequest = z.object({ parts: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1) });

async function main() {
  const models = await startModelServer({
    scenario: combineScenarios("e2e", ["plan-todo", "codex-todo-app"]),
    auth: { bearer: E2E_MODEL_KEY, apiKey: E2E_MODEL_KEY },
    port: E2E_MODEL_PORT,
  });
  const switchTo = (parts: string[]) =>
    // biome-ignore lint/correctness/useHookAtTopLevel: the model server's method, not a React hook
    models.useScenario(combineScenarios("e2e", parts));
  await startFakeHttpServer(async (request) => {
    if (request.method === "GET" && request.url.pathname === "/health")
      return { status: 200, json: { ok: true } };
    if (request.method !== "POST" || request.url.pathname !== "/scenario") return { status: 404, json: {} };
    const parsed = scenarioRequest.safeParse(JSON.parse(request.body || "{}"));
    if (!parsed.success) return { status: 400, json: { error: parsed.error.message } };
    switchTo(parsed.data.parts);
    return { status: 200, json: { ok: true } };
  }, E2E_MODEL_PORT + 1);
  console.log(`scripted model at ${models.url}; its control port is ${E2E_MODEL_PORT + 1}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
