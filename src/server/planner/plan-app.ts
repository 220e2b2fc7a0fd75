import { checkModelBaseUrl } from "@/server/credentials/model-url-policy";
import {
  createAnthropicClient,
  defaultAnthropicBaseUrl,
} from "@/server/integrations/models/anthropic-client";
import { createOpenAIClient, defaultOpenAIBaseUrl } from "@/server/integrations/models/openai-client";
import { scrub } from "@/server/integrations/provider-error";
import { askAnthropic } from "./anthropic-plan";
import { askChat, type ChatPlanMode } from "./chat-plan";
import type { ModelAnswer } from "./model-answer";
import { askOpenAI } from "./openai-plan";
import { checkPlan, type Plan, planSchema } from "./plan-schema";
import { PlannerError, type PlannerProvider } from "./planner-error";
import {
  plannerInstructionsFor,
  planRequest,
  retryRequest,
  type StartingPoint,
  withConventions,
} from "./prompts";
import { type CallContext, classifySdkError, vendorName } from "./sdk-errors";

/** One planning request's tokens, for the revision's usage (estimated: the server reported none). */
export type PlannerUsage = {
  provider: PlannerProvider;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  estimated: boolean;
};

export type PlanAppInput = {
  /** The operator's request, e.g. "build a todo app". */
  prompt: string;
  provider: PlannerProvider;
  model: string;
  /** Empty for an OpenAI-compatible server that wants none. */
  apiKey: string;
  /** An OpenAI- or Anthropic-compatible endpoint (OpenAI's includes `/v1`). Default: the vendor's API. */
  baseUrl?: string;
  /**
   * True when `baseUrl` is the platform's own or the platform allows private model hosts; false for an operator's
   * base URL, whose host must then resolve to public addresses only, checked before each request.
   */
  allowPrivateBaseUrl: boolean;
  fetch?: typeof fetch;
  /** Bound on each of the (at most two) requests. Default 90 s. */
  timeoutMs?: number;
  /** Told the usage of each request (the planner's calls are metered like the agents'). */
  onUsage?: (usage: PlannerUsage) => Promise<void> | void;
  /** What the app builds on (default: Kiln's template): the planner's instructions and the agent's conventions. */
  startingPoint?: StartingPoint;
};

const defaultTimeoutMs = 90_000;
const maxPromptLength = 20_000;

/**
 * Plans an app with one structured model call: title, slug, steps, and the prompt for the coding agent.
 * An answer that is not a valid plan, or a refusal, gets one more request (told what was wrong); upstream
 * failures (401, 429, 5xx, timeouts) are not retried here — the SDKs' own retries are off — and become a
 * PlannerError at once, so the pipeline decides what to retry.
 */
export async function planApp(input: PlanAppInput): Promise<Plan> {
  const prompt = input.prompt.trim();
  const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
  checkInput(input, prompt, timeoutMs);
  const baseUrl = (
    input.baseUrl ?? (input.provider === "anthropic" ? defaultAnthropicBaseUrl : defaultOpenAIBaseUrl)
  ).replace(/\/+$/, "");
  const label = `${vendorName(input.provider)}${input.baseUrl ? ` at ${hostOf(baseUrl)}` : ""}`;
  // A server without authentication ignores the header; the SDK insists on sending one.
  const options = { apiKey: input.apiKey || "no-key", baseUrl, timeoutMs, fetch: input.fetch };
  const usages: PlannerUsage[] = [];
  const counted = (usage: Omit<PlannerUsage, "provider" | "model">) =>
    usages.push({ provider: input.provider, model: input.model, ...usage });
  const chatState: { mode: ChatPlanMode } = { mode: "json_schema" };
  const start = input.startingPoint ?? { kind: "template" };
  const instructions = plannerInstructionsFor(start);
  const call = (text: string, signal: AbortSignal) => ({ model: input.model, instructions, text, signal });
  const ask =
    input.provider === "openai"
      ? (text: string, signal: AbortSignal) =>
          askOpenAI(createOpenAIClient(options), call(text, signal), counted)
      : input.provider === "anthropic"
        ? (text: string, signal: AbortSignal) =>
            askAnthropic(createAnthropicClient(options), call(text, signal), counted)
        : (text: string, signal: AbortSignal) =>
            askChat(createOpenAIClient(options), call(text, signal), chatState, counted);

  const attempt = async (text: string): Promise<ModelAnswer> => {
    await checkDestination(input, baseUrl);
    // The SDK's timeout stops waiting for headers; this one also bounds reading the body.
    const signal = AbortSignal.timeout(timeoutMs);
    const context: CallContext = {
      provider: input.provider,
      label,
      model: input.model,
      timeoutMs,
      signal,
      secrets: [input.apiKey],
    };
    try {
      return await ask(text, signal);
    } catch (error) {
      throw classifySdkError(error, context);
    } finally {
      for (const usage of usages.splice(0)) await input.onUsage?.(usage);
    }
  };

  const first = toOutcome(await attempt(planRequest(prompt)), start);
  if (first.ok) return first.plan;
  const second = toOutcome(await attempt(retryRequest(prompt, first.problem)), start);
  if (second.ok) return second.plan;
  throw new PlannerError(input.provider, second.kind, scrub(second.message, [input.apiKey]));
}

type Outcome =
  | { ok: true; plan: Plan }
  | { ok: false; kind: "invalid_plan" | "refused"; problem: string; message: string };

function toOutcome(answer: ModelAnswer, start: StartingPoint): Outcome {
  if (answer.kind === "refused") {
    return {
      ok: false,
      kind: "refused",
      problem: "you declined to answer",
      message: `The model refused to plan this app: ${answer.reason}. Rephrase the request and try again.`,
    };
  }
  const checked =
    answer.kind === "answer" ? checkPlan(answer.value) : { ok: false as const, problem: answer.problem };
  if (!checked.ok) {
    return {
      ok: false,
      kind: "invalid_plan",
      problem: checked.problem,
      message: `The model's plan was not valid: ${checked.problem}. Try again, or choose another planner model.`,
    };
  }
  return {
    ok: true,
    plan: planSchema.parse({
      ...checked.plan,
      agentPrompt: withConventions(checked.plan.agentPrompt, start),
    }),
  };
}

function checkInput(input: PlanAppInput, prompt: string, timeoutMs: number): void {
  const invalid = (message: string) => new PlannerError(input.provider, "invalid_input", message);
  if (!prompt) throw invalid("Describe the app to plan: the prompt is empty.");
  if (prompt.length > maxPromptLength) {
    throw invalid(
      `The prompt is longer than ${maxPromptLength.toLocaleString("en")} characters; shorten it.`,
    );
  }
  if (!input.model.trim()) throw invalid("Choose a planner model: the model name is empty.");
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw invalid("The planner timeout must be a positive number.");
  // Header values must be visible ASCII; fetch's own error for anything else would quote the key.
  const keyOptional = input.provider === "openai-compatible" && input.apiKey === "";
  if (!keyOptional && !/^[\x21-\x7e]+$/.test(input.apiKey)) {
    const vendor = vendorName(input.provider);
    throw new PlannerError(
      input.provider,
      "auth",
      `The ${vendor} API key is empty or contains characters no key has (spaces, line breaks, non-ASCII). Set it again in Settings.`,
    );
  }
  if (input.baseUrl !== undefined && !/^https?:\/\//.test(input.baseUrl)) {
    throw invalid("The planner base URL must start with http:// or https://.");
  }
}

/** Before every request, not only at save time: the host's addresses may have changed since (DNS rebinding). */
async function checkDestination(input: PlanAppInput, baseUrl: string): Promise<void> {
  if (input.baseUrl === undefined || input.allowPrivateBaseUrl) return;
  const check = await checkModelBaseUrl(baseUrl, { allowPrivate: false });
  if (!check.ok) {
    const vendor = vendorName(input.provider);
    throw new PlannerError(
      input.provider,
      "invalid_input",
      `The ${vendor} base URL in Settings is not allowed: ${check.reason}.`,
    );
  }
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}
