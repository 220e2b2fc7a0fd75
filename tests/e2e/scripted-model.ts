import { z } from "zod";
import { startFakeHttpServer } from "../fakes/http";
import { combineScenarios, type ScenarioInput, startModelServer } from "../fakes/model-server";
import { E2E_MODEL_KEY, E2E_MODEL_PORT } from "./env";

// The e2e run's model vendor: the scripted OpenAI Responses / Anthropic Messages server (tests/fakes/model-server.ts)
// on a fixed port, answering the operator key the specs save, plus a control port where a spec switches the script
// (`POST /scenario {"parts": ["codex-add-username"]}`) before a follow-up, and reads how many calls it answered
// (`GET /calls`). Started by playwright.config.ts (and by the durability spec, on ports of its own).

const scenarioRequest = z.object({
  parts: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
  /** Each of the agent's calls (every turn but the planner's structured one) waits this long: a slow agent. */
  agentDelayMs: z.number().int().min(0).max(60_000).optional(),
});

function slowAgent(scenario: ScenarioInput, delayMs: number): ScenarioInput {
  return {
    ...scenario,
    turns: scenario.turns.map((turn) => (turn.when?.structured ? turn : { ...turn, delayMs })),
  };
}

async function main() {
  const models = await startModelServer({
    scenario: combineScenarios("e2e", ["plan-todo", "codex-todo-app"]),
    auth: { bearer: E2E_MODEL_KEY, apiKey: E2E_MODEL_KEY },
    port: E2E_MODEL_PORT,
  });
  const switchTo = (parts: string[], agentDelayMs: number | undefined) => {
    const scenario = combineScenarios("e2e", parts);
    // biome-ignore lint/correctness/useHookAtTopLevel: the model server's method, not a React hook
    models.useScenario(agentDelayMs ? slowAgent(scenario, agentDelayMs) : scenario);
  };
  // `GET /calls`: model calls since the start, the planner's (structured output) apart from the coding agent's;
  // `agentTurns` counts the agent's requests that open a turn (no tool call yet since the latest prompt).
  const calls = () => {
    const answered = models.modelRequests().filter((request) => request.conversation !== undefined);
    const agent = answered.filter((request) => request.conversation?.structuredName === undefined);
    return {
      total: models.modelRequests().length,
      planner: answered.length - agent.length,
      agent: agent.length,
      agentTurns: agent.filter((request) => request.conversation?.step === 0).length,
    };
  };
  await startFakeHttpServer(async (request) => {
    if (request.method === "GET" && request.url.pathname === "/health")
      return { status: 200, json: { ok: true } };
    if (request.method === "GET" && request.url.pathname === "/calls") return { status: 200, json: calls() };
    if (request.method !== "POST" || request.url.pathname !== "/scenario") return { status: 404, json: {} };
    const parsed = scenarioRequest.safeParse(JSON.parse(request.body || "{}"));
    if (!parsed.success) return { status: 400, json: { error: parsed.error.message } };
    switchTo(parsed.data.parts, parsed.data.agentDelayMs);
    return { status: 200, json: { ok: true } };
  }, E2E_MODEL_PORT + 1);
  console.log(`scripted model at ${models.url}; its control port is ${E2E_MODEL_PORT + 1}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
