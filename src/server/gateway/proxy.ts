import { randomUUID } from "node:crypto";
import { type ModelProvider, providerOfRun } from "@/agents/models";
import { checkModelBaseUrl } from "@/server/credentials/model-url-policy";
import type { Database } from "@/server/db/connection";
import { findMeteredRun, type MeteredRun } from "@/server/db/queries/usage";
import { monthlyQuotaCutOff } from "@/server/governance/monthly-quota-cut-off";
import type { PauseReader } from "@/server/governance/pause-state";
import { pausedMessage } from "@/server/governance/pause-state";
import type { QuotaLimits } from "@/server/governance/quota-limits";
import { logError } from "@/server/http/log";
import { scrub } from "@/server/integrations/provider-error";
import { isTerminal } from "@/server/revisions/state-machine";
import { checkBudget, type RunBudgetDefaults } from "./budget";
import { chatFromMessages } from "./chat/chat-from-messages";
import { chatFromResponses, type TranslatedRequest, TranslationError } from "./chat/chat-from-responses";
import { type AnswerTranslation, translateAnswer, translateError } from "./chat/translate-answer";
import type { ModelPrice } from "./prices";
import {
  clientResponseHeaders,
  type GatewayProtocol,
  gatewayError,
  providerOf,
  runTokenFrom,
  upstreamHeaders,
  upstreamUrl,
  vendorLabel,
} from "./protocols";
import { recordUsage } from "./record-usage";
import {
  checkRequestedModel,
  type ModelPolicy,
  modelOfRequestBody,
  type Refusal,
  vendorRefusal,
} from "./run-binding";
import { checkRunToken } from "./run-token";
import type { ResolveUpstream, Upstream } from "./upstream";
import { createUsageTracker, type ObservedUsage } from "./usage-tracker";

/**
 * The model gateway: the only way an agent in a sandbox reaches a model. It authenticates the run token, refuses
 * runs that ended or spent their budget, forwards the request to the vendor with the operator's key, streams the
 * answer back byte for byte, and meters the usage it reads from a copy of the stream.
 */

export type GatewayDeps = {
  db: Database;
  /** The platform secret key (run tokens are signed with a key derived from it). */
  secretKey: Buffer;
  resolveUpstream: ResolveUpstream;
  budget: RunBudgetDefaults;
  /** Operators' quotas where they have none of their own; monthly tokens and money cut runs off like a budget. */
  quotas?: QuotaLimits;
  /** The kill switch: while paused, no run gets another upstream call. */
  pause?: PauseReader;
  /** Extra models and a default price; default: the run's own model only, at its list price. */
  models?: ModelPolicy;
  fetch?: typeof fetch;
  /** How long the vendor may take to answer with headers (default 5 minutes). */
  upstreamHeadersTimeoutMs?: number;
  /** The longest silence allowed inside an answer's body (default 5 minutes: reasoning models pause). */
  upstreamIdleTimeoutMs?: number;
  /** Largest request body accepted (default 32 MB: a long agent conversation is resent whole every turn). */
  maxRequestBytes?: number;
  now?: () => number;
};

export type GatewayRequest = { protocol: GatewayProtocol; request: Request };

export const DEFAULT_HEADERS_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** Upstream error bodies are read whole (to scrub them); past this they are cut. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

export async function handleGatewayRequest(input: GatewayRequest, deps: GatewayDeps): Promise<Response> {
  try {
    return await proxy(input, deps);
  } catch (error) {
    logError("gateway", error);
    return gatewayError(input.protocol, 500, {
      type: "api_error",
      code: "internal:unexpected",
      message: "The Kiln model gateway failed unexpectedly; the Kiln server log has the details.",
    });
  }
}

async function proxy({ protocol, request }: GatewayRequest, deps: GatewayDeps): Promise<Response> {
  const now = deps.now?.() ?? Date.now();
  const run = await authorizeRun(protocol, request.headers, deps, now);
  if (run instanceof Response) return run;
  const wrongVendor = vendorRefusal(protocol, run);
  if (wrongVendor) return refuse(protocol, wrongVendor);

  const budget = checkBudget(run, deps.budget);
  if (!budget.ok) {
    return gatewayError(protocol, 429, {
      type: "budget_exceeded",
      code: "budget_exceeded",
      message: budget.message,
      retry: false,
    });
  }
  const pause = await deps.pause?.current();
  if (pause) {
    return gatewayError(protocol, 503, {
      type: "api_error",
      code: "paused",
      message: pausedMessage(pause),
      retry: false,
    });
  }
  const quota = deps.quotas && (await monthlyQuotaCutOff(deps.db, deps.quotas, run.userId, now));
  if (quota) {
    return gatewayError(protocol, 429, {
      type: "budget_exceeded",
      code: "quota_exceeded",
      message: quota,
      retry: false,
    });
  }

  const provider = providerOfRun(run, run.projectModelProvider);
  const upstream = await deps.resolveUpstream(run.userId, provider);
  if (!upstream) {
    const message =
      provider === "openai-compatible"
        ? "No OpenAI-compatible server is set for this project's operator and Kiln has no platform default (OPENAI_COMPATIBLE_BASE_URL). Add one in Kiln's Settings, then start a new revision."
        : `No ${vendorLabel[provider]} API key is set for this project's operator and Kiln has no platform default. Add one in Kiln's Settings, then start a new revision.`;
    return gatewayError(protocol, 403, {
      type: "permission_error",
      code: "no_credential",
      message,
      retry: false,
    });
  }

  const maxBytes = deps.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const body = await readRequestBody(request, maxBytes);
  if (!body) {
    return gatewayError(protocol, 413, {
      type: "request_too_large",
      code: "payload_too_large:body",
      message: `The request body is larger than the gateway's limit of ${Math.round(maxBytes / 1024 / 1024)} MB.`,
      retry: false,
    });
  }
  const policy = deps.models ?? noExtraModels;
  // An OpenAI-compatible server's own price (its credential's) comes first: its model names are its own, and a
  // name that looks like a vendor's ("gpt-4o" on OpenRouter) is not billed at the vendor's list price.
  const model = checkRequestedModel(
    run,
    modelOfRequestBody(body),
    upstream.price ? { ...policy, fixedPrice: upstream.price } : policy,
  );
  if (!model.ok) return refuse(protocol, model.refusal);
  return forward(
    { protocol, provider, request, body, run, upstream, model: model.model, price: model.price },
    deps,
  );
}

const noExtraModels: ModelPolicy = { extraModels: [], defaultPrice: undefined };

function refuse(protocol: GatewayProtocol, refusal: Refusal): Response {
  return gatewayError(protocol, refusal.status, {
    type: refusal.status === 400 ? "invalid_request_error" : "permission_error",
    code: refusal.code,
    message: refusal.message,
    retry: false,
  });
}

function unauthorized(protocol: GatewayProtocol, message: string): Response {
  return gatewayError(protocol, 401, {
    type: "authentication_error",
    code: "unauthorized:token",
    message,
    retry: false,
  });
}

const tokenProblems = {
  malformed: "The Kiln run token is missing or malformed: the gateway only accepts run tokens (krt_…).",
  bad_signature:
    "The Kiln run token is not valid: it was not issued by this Kiln server (or its secret key changed).",
  expired: "The Kiln run token has expired: the run outlived its token. Start a new revision.",
} as const;

async function authorizeRun(
  protocol: GatewayProtocol,
  headers: Headers,
  deps: GatewayDeps,
  now: number,
): Promise<MeteredRun | Response> {
  const token = runTokenFrom(protocol, headers);
  if (!token) {
    const where =
      protocol === "openai-responses" ? "Authorization: Bearer" : "x-api-key or Authorization: Bearer";
    return unauthorized(protocol, `A Kiln run token is required (${where}).`);
  }
  const check = checkRunToken(token, deps.secretKey, now);
  if (!check.ok) return unauthorized(protocol, tokenProblems[check.reason]);
  const run = await findMeteredRun(deps.db, check.claims.revisionId);
  if (!run) return unauthorized(protocol, "The revision this run token was issued for no longer exists.");
  if (run.sandboxId !== null && run.sandboxId !== check.claims.sandboxId) {
    return unauthorized(
      protocol,
      "This run token was issued to another sandbox than the revision's current one.",
    );
  }
  if (isTerminal(run.status)) {
    return unauthorized(
      protocol,
      `This run has ended (the revision is ${run.status}); its run token no longer works.`,
    );
  }
  return run;
}

/** The whole body, or undefined when it is larger than `limit` (declared or actual). */
async function readRequestBody(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limit) return undefined;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

type Forward = {
  protocol: GatewayProtocol;
  provider: ModelProvider;
  request: Request;
  body: Uint8Array<ArrayBuffer>;
  run: MeteredRun;
  upstream: Upstream;
  /** The model the request names, checked against the run; and the price it was admitted at. */
  model: string;
  price: ModelPrice;
};

/**
 * One abort controller per call, fired by whichever comes first: the client going away, the vendor not
 * answering in time, or the vendor going silent mid-body. `cause` remembers which, for the error message.
 */
class UpstreamCall {
  readonly controller = new AbortController();
  cause: "client" | "timeout" | undefined;
  readonly #clientSignal: AbortSignal;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(clientSignal: AbortSignal) {
    this.#clientSignal = clientSignal;
    if (clientSignal.aborted) this.#clientGone();
    else clientSignal.addEventListener("abort", this.#clientGone, { once: true });
  }

  readonly #clientGone = (): void => {
    this.cause ??= "client";
    this.controller.abort();
  };

  startTimer(ms: number): void {
    this.stopTimer();
    this.#timer = setTimeout(() => {
      this.cause ??= "timeout";
      this.controller.abort();
    }, ms);
  }

  stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  clientCancelled(): void {
    this.#clientGone();
  }

  done(): void {
    this.stopTimer();
    this.#clientSignal.removeEventListener("abort", this.#clientGone);
  }
}

/** A Chat Completions upstream: the request translated, and what the answer's translation needs from it. */
type ChatCall = { translated: TranslatedRequest; body: Uint8Array<ArrayBuffer> };

function translateRequest(call: Forward): ChatCall | Response {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(call.body).toString("utf8"));
    const translated =
      call.protocol === "openai-responses" ? chatFromResponses(json) : chatFromMessages(json);
    return { translated, body: Buffer.from(JSON.stringify(translated.request)) };
  } catch (error) {
    if (!(error instanceof TranslationError || error instanceof SyntaxError)) throw error;
    return gatewayError(call.protocol, 400, {
      type: "invalid_request_error",
      code: "bad_request:translation",
      message: error instanceof TranslationError ? error.message : "The request body is not JSON.",
      retry: false,
    });
  }
}

async function forward(call: Forward, deps: GatewayDeps): Promise<Response> {
  const { protocol, request, upstream } = call;
  const chat = upstream.wire === "chat" ? translateRequest(call) : undefined;
  if (chat instanceof Response) return chat;
  const label =
    call.provider === "openai-compatible" ? "OpenAI-compatible server" : vendorLabel[providerOf[protocol]];
  const url = chat
    ? `${upstream.baseUrl.replace(/\/+$/, "")}/chat/completions`
    : upstreamUrl(protocol, upstream.baseUrl, new URL(request.url).search);
  const host = new URL(url).host;
  if (upstream.checkHost) {
    // Resolved again for every request: a name that pointed at a public address when saved may not any more.
    const check = await checkModelBaseUrl(url, { allowPrivate: false });
    if (!check.ok) {
      return gatewayError(protocol, 403, {
        type: "permission_error",
        code: "upstream_not_allowed",
        message: `The ${label} base URL in the operator's Settings is not allowed: ${check.reason}.`,
        retry: false,
      });
    }
  }
  const upstreamCall = new UpstreamCall(request.signal);
  const headersTimeoutMs = deps.upstreamHeadersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const idleTimeoutMs = deps.upstreamIdleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  let response: Response;
  upstreamCall.startTimer(headersTimeoutMs);
  try {
    response = await (deps.fetch ?? fetch)(url, {
      method: "POST",
      headers: chat
        ? chatHeaders(upstream.apiKey)
        : upstreamHeaders(protocol, request.headers, upstream.apiKey),
      body: chat ? chat.body : call.body,
      signal: upstreamCall.controller.signal,
      // A redirect would carry the key to wherever it points; the vendor APIs never redirect.
      redirect: "manual",
      cache: "no-store",
    });
  } catch (error) {
    upstreamCall.done();
    if (upstreamCall.cause === "client") {
      // Nobody is listening any more; the status is for the access log.
      return new Response(null, { status: 499 });
    }
    if (upstreamCall.cause === "timeout") {
      const message = `The ${label} API at ${host} did not answer within ${seconds(headersTimeoutMs)}.`;
      console.warn(`[kiln] gateway: ${message}`);
      return gatewayError(protocol, 504, { type: "upstream_timeout", code: "upstream_timeout", message });
    }
    const message = scrub(
      `Could not reach the ${label} API at ${host} (${describeNetworkError(error)}). Check the base URL in Kiln's Settings and the network of the Kiln server.`,
      [upstream.apiKey],
    );
    console.warn(`[kiln] gateway: ${message}`);
    return gatewayError(protocol, 502, {
      type: "upstream_unavailable",
      code: "upstream_unavailable",
      message,
    });
  }
  upstreamCall.stopTimer();

  if (response.status < 200 || response.status >= 300) {
    const passed = await passUpstreamError(response, upstreamCall, upstream.apiKey, idleTimeoutMs);
    if (!chat) return passed;
    // The CLI reads errors in its own vendor's shape only.
    return new Response(
      translateError(protocol, passed.status, await passed.text(), `The ${label} at ${host}`),
      {
        status: passed.status,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      },
    );
  }
  if (!chat) return streamUpstream(call, response, upstreamCall, idleTimeoutMs, deps);
  const translation = translateAnswer({
    client: protocol,
    model: call.model,
    streamed: (response.headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream"),
    customTools: chat.translated.customTools,
    estimatedInputTokens: chat.translated.estimatedInputTokens,
    callId: randomUUID().replaceAll("-", "").slice(0, 24),
  });
  return streamUpstream(call, response, upstreamCall, idleTimeoutMs, deps, translation);
}

/** Chat Completions upstreams get a fresh set of headers: the client's belong to another protocol. */
function chatHeaders(apiKey: string): Headers {
  const headers = new Headers({
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  });
  if (apiKey) headers.set("authorization", `Bearer ${apiKey}`);
  return headers;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) {
    const code = "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
    return code ?? cause.message;
  }
  return String(cause);
}

/**
 * A vendor's error answer goes back with its status and body, so the CLI shows what the vendor said (quota,
 * model not found, overloaded…), but never the operator's key: some compatible servers echo it.
 */
async function passUpstreamError(
  response: Response,
  upstreamCall: UpstreamCall,
  apiKey: string,
  idleTimeoutMs: number,
): Promise<Response> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  try {
    while (reader && total < MAX_ERROR_BODY_BYTES) {
      upstreamCall.startTimer(idleTimeoutMs);
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    // A body cut short still says something; the status is what matters most.
    if (!(error instanceof Error)) throw error;
  } finally {
    upstreamCall.done();
    if (total >= MAX_ERROR_BODY_BYTES) upstreamCall.controller.abort();
  }
  const text = scrub(Buffer.concat(chunks).toString("utf8").slice(0, MAX_ERROR_BODY_BYTES), [apiKey]);
  const headers = clientResponseHeaders(response.headers);
  headers.forEach((value, name) => {
    if (value.includes(apiKey)) headers.set(name, scrub(value, [apiKey]));
  });
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}

function streamUpstream(
  call: Forward,
  response: Response,
  upstreamCall: UpstreamCall,
  idleTimeoutMs: number,
  deps: GatewayDeps,
  translation?: AnswerTranslation,
): Response {
  const headers = translation
    ? new Headers({ "content-type": translation.contentType, "cache-control": "no-cache" })
    : clientResponseHeaders(response.headers);
  const tracker = translation
    ? { push: () => undefined, finish: () => translation.usage() }
    : createUsageTracker(call.protocol, response.headers.get("content-type"));
  const encoder = new TextEncoder();
  const source = response.body;
  let settled = false;
  let cancelled = false;

  // Runs once, whatever ends the body (its end, a failure, the client leaving): partial usage still counts.
  const settle = async (): Promise<void> => {
    if (settled) return;
    settled = true;
    upstreamCall.done();
    const observed = tracker.finish();
    if (observed) await saveUsage(call, observed, deps);
  };

  if (!source) {
    upstreamCall.done();
    const rest = translation?.end();
    return new Response(rest || null, { status: response.status, statusText: response.statusText, headers });
  }
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // A pull must enqueue, close or error before it returns: the stream calls pull again only when asked
        // while a pull is running, so one that returns with nothing leaves the client's read waiting forever.
        // A translated chunk may complete no event of the client's protocol yet, so read on until one does.
        for (;;) {
          upstreamCall.startTimer(idleTimeoutMs);
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (error) {
            await settle();
            if (cancelled) return;
            if (upstreamCall.cause === "timeout") {
              console.warn(
                `[kiln] gateway: the upstream went silent for ${seconds(idleTimeoutMs)} mid-answer; the stream was cut.`,
              );
            }
            controller.error(error);
            return;
          } finally {
            upstreamCall.stopTimer();
          }
          if (cancelled) return;
          if (chunk.done) {
            const rest = translation?.end();
            if (rest) controller.enqueue(encoder.encode(rest));
            // Stored before the client sees the end, so its next request is checked against this call's usage too.
            await settle();
            controller.close();
            return;
          }
          if (translation) {
            const text = translation.push(chunk.value);
            if (!text) continue;
            controller.enqueue(encoder.encode(text));
            return;
          }
          controller.enqueue(chunk.value);
          tracker.push(chunk.value);
          return;
        }
      },
      async cancel() {
        cancelled = true;
        upstreamCall.clientCancelled();
        await settle();
      },
    },
    // No buffering of our own: a chunk is read from the vendor only when the client is ready for it.
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

/** Metering must never break the answer it meters: a failed write is logged for the operator, not thrown. */
async function saveUsage(call: Forward, observed: ObservedUsage, deps: GatewayDeps): Promise<void> {
  try {
    await recordUsage(
      deps.db,
      {
        projectId: call.run.projectId,
        revisionId: call.run.revisionId,
        provider: call.provider,
        model: observed.model ?? call.model,
        usage: observed.usage,
        price: call.price,
        fixedPrice: call.upstream.price,
        estimated: observed.estimated,
      },
      deps.now?.() ?? Date.now(),
    );
  } catch (error) {
    logError("gateway usage", error);
  }
}
