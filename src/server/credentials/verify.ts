import Anthropic from "@anthropic-ai/sdk";
import { Octokit } from "@octokit/rest";
import OpenAI from "openai";
import { z } from "zod";
import { createDigestFetch } from "../integrations/tidbcloud/digest-auth";
import { type CredentialInput, type CredentialKind, credentialLabels } from "./kinds";

/**
 * Checks a credential against its vendor before it is saved. Policy:
 * - "rejected" only when the vendor answered and said no (401/403, or 404 for a team/project id);
 * - everything else — network failure, timeout, 5xx, 429, a response we cannot read — is "unreachable",
 *   and the caller saves the credential without verifying;
 * - no secret ever reaches a result: vendor and library error text is scrubbed of every secret of the input.
 */

export type VendorEndpoints = {
  githubApiUrl: string;
  vercelApiUrl: string;
  tidbCloudApiUrl: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  /** Operators' own model base URLs may name http:// and loopback/private hosts (KILN_ALLOW_PRIVATE_MODEL_URLS). */
  allowPrivateModelUrls: boolean;
};

export type VerifyOptions = { endpoints: VendorEndpoints; timeoutMs?: number; fetch?: typeof fetch };

export type VerifyResult =
  | { status: "verified"; detail: string }
  | { status: "rejected"; message: string }
  | { status: "unreachable"; message: string };

const defaultTimeoutMs = 8000;

type CheckContext = {
  label: string;
  /** Host named in messages, e.g. "api.github.com". */
  host: string;
  signal: AbortSignal;
  timeoutMs: number;
  fetch: typeof fetch | undefined;
};

export async function verifyCredential(
  input: CredentialInput,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const secrets = secretsOf(input);
  const label = credentialLabels[input.kind];
  const endpoint = endpointFor(input, options.endpoints);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const context: CheckContext = {
    label,
    host: hostOf(endpoint),
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    fetch: options.fetch,
  };

  // Header values must be visible ASCII; anything else is a paste accident no vendor would accept, and fetch's
  // own error for it would quote the secret.
  if (secrets.some((value) => !/^[\x21-\x7e]+$/.test(value))) {
    return {
      status: "rejected",
      message: `The ${label} credential contains characters that no ${label} key has (spaces, line breaks or non-ASCII). Copy it again from ${label} and paste it.`,
    };
  }

  let result: VerifyResult;
  try {
    result = await checkByKind(input, endpoint, context);
  } catch (error) {
    // Anything not classified by the vendor checks (a library bug, an unexpected throw) still must not leak.
    result = unreachable(context, describeError(error, context));
  }
  return redact(result, secrets);
}

function checkByKind(input: CredentialInput, endpoint: string, context: CheckContext): Promise<VerifyResult> {
  switch (input.kind) {
    case "github":
      return checkGitHub(input.token, endpoint, context);
    case "vercel":
      return checkVercel(input, endpoint, context);
    case "tidbcloud":
      return checkTiDBCloud(input, endpoint, context);
    case "openai":
      return checkOpenAI(input, endpoint, context);
    case "anthropic":
      return checkAnthropic(input, endpoint, context);
  }
}

function endpointFor(input: CredentialInput, endpoints: VendorEndpoints): string {
  const byKind: Record<CredentialKind, string> = {
    github: endpoints.githubApiUrl,
    vercel: endpoints.vercelApiUrl,
    tidbcloud: endpoints.tidbCloudApiUrl,
    // An operator's own base URL (a proxy or compatible gateway) wins over the platform default.
    openai: (input.kind === "openai" && input.baseUrl) || endpoints.openaiBaseUrl,
    anthropic: (input.kind === "anthropic" && input.baseUrl) || endpoints.anthropicBaseUrl,
  };
  return byKind[input.kind].replace(/\/+$/, "");
}

function secretsOf(input: CredentialInput): string[] {
  switch (input.kind) {
    case "github":
    case "vercel":
      return [input.token];
    case "tidbcloud":
      return [input.publicKey, input.privateKey];
    case "openai":
    case "anthropic":
      return [input.apiKey];
  }
}

function redact(result: VerifyResult, secrets: string[]): VerifyResult {
  const variants = [...new Set(secrets.flatMap((value) => [value, encodeURIComponent(value)]))]
    .filter((value) => value.length > 0)
    .sort((a, b) => b.length - a.length);
  const scrub = (text: string) => variants.reduce((out, value) => out.split(value).join("[redacted]"), text);
  return result.status === "verified"
    ? { status: "verified", detail: scrub(result.detail) }
    : { status: result.status, message: scrub(result.message) };
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : url;
}

function unreachable(context: CheckContext, reason: string): VerifyResult {
  return {
    status: "unreachable",
    message: `Could not reach ${context.label} at ${context.host} (${reason}). Saved without verifying.`,
  };
}

function vendorNote(...parts: Array<string | null | undefined>): string {
  const note = parts
    .filter((part): part is string => Boolean(part))
    .join(": ")
    .slice(0, 160);
  return note ? ` (${note})` : "";
}

/** The reason for a non-2xx answer that is not a refusal of the credential. */
function statusReason(status: number): string {
  if (status === 429) return "rate limited, HTTP 429; try again in a minute";
  if (status >= 500) return `the server answered HTTP ${status}`;
  return `unexpected HTTP ${status}`;
}

function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  return `unexpected response${where}: ${issue?.message ?? "invalid shape"}`;
}

const networkCodes = new Map<string, string>([
  ["ECONNREFUSED", "connection refused"],
  ["ENOTFOUND", "host not found"],
  ["EAI_AGAIN", "DNS lookup failed"],
  ["ECONNRESET", "connection reset"],
  ["EPIPE", "connection closed"],
  ["ETIMEDOUT", "connection timed out"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["UND_ERR_SOCKET", "connection closed by the server"],
  ["UND_ERR_CONNECT_TIMEOUT", "connection timed out"],
  ["UND_ERR_HEADERS_TIMEOUT", "no response headers in time"],
]);

/** A short human reason for a thrown network/library error; checks our own deadline first. */
function describeError(error: unknown, context: CheckContext): string {
  if (context.signal.aborted || isTimeoutError(error)) return `no answer within ${context.timeoutMs} ms`;
  let current: unknown = error;
  let fallback: string | undefined;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if ("code" in current && typeof current.code === "string") {
      const known = networkCodes.get(current.code);
      if (known) return known;
      if (current.code.startsWith("ERR_TLS") || current.code.includes("CERT")) {
        return `TLS error: ${current.code}`;
      }
    }
    if (!fallback && current.message && current.message !== "fetch failed") fallback = current.message;
    current = current.cause;
  }
  return fallback ?? (error instanceof Error ? error.message : "unknown error");
}

function isTimeoutError(error: unknown): boolean {
  return (
    error instanceof OpenAI.APIConnectionTimeoutError ||
    error instanceof Anthropic.APIConnectionTimeoutError ||
    (error instanceof Error && error.name === "TimeoutError")
  );
}

type RawAnswer = { status: number; headers: Headers; body: unknown; bodyIsJson: boolean };

/** GET returning status and parsed JSON; throws only on network failure or abort. */
async function getJson(
  context: CheckContext,
  url: string,
  headers: Record<string, string>,
): Promise<RawAnswer> {
  const doFetch = context.fetch ?? globalThis.fetch;
  const response = await doFetch(url, {
    method: "GET",
    headers: { accept: "application/json", ...headers },
    signal: context.signal,
  });
  return readJson(response);
}

async function readJson(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  try {
    return { status: response.status, headers: response.headers, body: JSON.parse(text), bodyIsJson: true };
  } catch (error) {
    if (error instanceof SyntaxError) {
      return { status: response.status, headers: response.headers, body: undefined, bodyIsJson: false };
    }
    throw error;
  }
}

/** Validates a 2xx body; a non-JSON or wrongly shaped body is a reason for "unreachable". */
function parseBody<T>(
  schema: z.ZodType<T>,
  answer: RawAnswer,
): { ok: true; data: T } | { ok: false; reason: string } {
  if (!answer.bodyIsJson) return { ok: false, reason: "unexpected response: not JSON" };
  const parsed = schema.safeParse(answer.body);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, reason: describeZodError(parsed.error) };
}

// ---------------------------------------------------------------------------------------------------------------
// GitHub

const githubUserSchema = z.object({ login: z.string().min(1) });
const githubRequestErrorSchema = z.object({
  status: z.number(),
  response: z
    .object({
      headers: z.record(z.string(), z.unknown()),
      data: z.unknown(),
    })
    .optional(),
});
const githubErrorBodySchema = z.object({ message: z.string() });

const ignoreLog = (): undefined => undefined;

async function checkGitHub(token: string, baseUrl: string, context: CheckContext): Promise<VerifyResult> {
  const octokit = new Octokit({
    auth: token,
    baseUrl,
    userAgent: "kiln",
    // Octokit's request log would print every failure; the caller gets the classified result instead.
    log: { debug: ignoreLog, info: ignoreLog, warn: console.warn, error: ignoreLog },
    request: { signal: context.signal, ...(context.fetch ? { fetch: context.fetch } : {}) },
  });
  let data: unknown;
  try {
    ({ data } = await octokit.rest.users.getAuthenticated());
  } catch (error) {
    const requestError = githubRequestErrorSchema.safeParse(error);
    // Octokit reports network failures as status 500 without a response.
    if (!requestError.success || !requestError.data.response) {
      return unreachable(context, describeError(error, context));
    }
    const { status, response } = requestError.data;
    const vendorMessage = githubErrorBodySchema.safeParse(response.data);
    const note = vendorNote(vendorMessage.success ? vendorMessage.data.message : undefined);
    const rateLimited = response.headers["x-ratelimit-remaining"] === "0" || response.headers["retry-after"];
    if ((status === 403 || status === 429) && rateLimited) {
      return unreachable(context, "rate limited by GitHub; try again in a few minutes");
    }
    if (status === 401) {
      return {
        status: "rejected",
        message: `GitHub rejected the token${note}. Check that it was copied in full and has not expired or been revoked, or create a new one under GitHub → Settings → Developer settings → Personal access tokens.`,
      };
    }
    if (status === 403) {
      return {
        status: "rejected",
        message: `GitHub refused the token${note}. If your organization uses SAML single sign-on, authorize the token for it; otherwise create a new token.`,
      };
    }
    return unreachable(context, statusReason(status));
  }
  const user = githubUserSchema.safeParse(data);
  if (!user.success) return unreachable(context, describeZodError(user.error));
  return { status: "verified", detail: `Signed in to GitHub as ${user.data.login}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Vercel

const vercelUserSchema = z.object({
  user: z.object({ username: z.string().min(1) }),
});
const vercelTeamSchema = z.object({
  id: z.string(),
  slug: z.string().optional(),
  name: z.string().nullish(),
});
const vercelProjectSchema = z.object({ id: z.string(), name: z.string() });
const vercelErrorSchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string().optional() }),
});

function vercelErrorNote(answer: RawAnswer): string {
  const parsed = vercelErrorSchema.safeParse(answer.body);
  return parsed.success ? vendorNote(parsed.data.error.code, parsed.data.error.message) : "";
}

type Fetched = { answer: RawAnswer } | { failed: VerifyResult };

async function checkVercel(
  input: Extract<CredentialInput, { kind: "vercel" }>,
  baseUrl: string,
  context: CheckContext,
): Promise<VerifyResult> {
  const get = async (path: string): Promise<Fetched> => {
    try {
      return {
        answer: await getJson(context, `${baseUrl}${path}`, { authorization: `Bearer ${input.token}` }),
      };
    } catch (error) {
      return { failed: unreachable(context, describeError(error, context)) };
    }
  };
  const tokenRejected = (answer: RawAnswer): VerifyResult => ({
    status: "rejected",
    message: `Vercel rejected the token${vercelErrorNote(answer)}. Check that it was copied in full and has not expired, or create a new one under Vercel → Account Settings → Tokens.`,
  });
  const isOk = (answer: RawAnswer) => answer.status >= 200 && answer.status < 300;

  const user = await get("/v2/user");
  if ("failed" in user) return user.failed;
  if (user.answer.status === 401 || user.answer.status === 403) return tokenRejected(user.answer);
  if (!isOk(user.answer)) return unreachable(context, statusReason(user.answer.status));
  const parsedUser = parseBody(vercelUserSchema, user.answer);
  if (!parsedUser.ok) return unreachable(context, parsedUser.reason);
  const parts = [`Signed in to Vercel as ${parsedUser.data.user.username}`];

  let teamQuery = "";
  if (input.teamId) {
    const team = await get(`/v2/teams/${encodeURIComponent(input.teamId)}`);
    if ("failed" in team) return team.failed;
    const note = vercelErrorNote(team.answer);
    if (team.answer.status === 401) return tokenRejected(team.answer);
    if (team.answer.status === 404) {
      return {
        status: "rejected",
        message: `Vercel has no team "${input.teamId}" that this token can see${note}. Check the team ID under Team Settings → General, or leave it empty to use your personal account.`,
      };
    }
    if (team.answer.status === 403) {
      return {
        status: "rejected",
        message: `This Vercel token cannot access team "${input.teamId}"${note}. Create a token whose scope includes that team.`,
      };
    }
    if (!isOk(team.answer)) return unreachable(context, statusReason(team.answer.status));
    const parsedTeam = parseBody(vercelTeamSchema, team.answer);
    if (!parsedTeam.ok) return unreachable(context, parsedTeam.reason);
    parts.push(`team ${parsedTeam.data.name || parsedTeam.data.slug || parsedTeam.data.id}`);
    teamQuery = `?teamId=${encodeURIComponent(input.teamId)}`;
  }

  if (input.projectId) {
    const project = await get(`/v9/projects/${encodeURIComponent(input.projectId)}${teamQuery}`);
    if ("failed" in project) return project.failed;
    const note = vercelErrorNote(project.answer);
    const owner = input.teamId ? `team "${input.teamId}"` : "your personal account";
    if (project.answer.status === 401) return tokenRejected(project.answer);
    if (project.answer.status === 404) {
      return {
        status: "rejected",
        message: `Vercel has no project "${input.projectId}" in ${owner}${note}. Check the project ID under Project Settings → General${input.teamId ? "" : ", or set the team the project belongs to"}.`,
      };
    }
    if (project.answer.status === 403) {
      return {
        status: "rejected",
        message: `This Vercel token cannot access project "${input.projectId}" in ${owner}${note}. Use a token whose scope includes it.`,
      };
    }
    if (!isOk(project.answer)) return unreachable(context, statusReason(project.answer.status));
    const parsedProject = parseBody(vercelProjectSchema, project.answer);
    if (!parsedProject.ok) return unreachable(context, parsedProject.reason);
    parts.push(`project ${parsedProject.data.name}`);
  }

  return { status: "verified", detail: parts.join(" · ") };
}

// ---------------------------------------------------------------------------------------------------------------
// TiDB Cloud

const tidbClustersSchema = z.object({
  clusters: z.array(z.object({ clusterId: z.string().optional() })),
  totalSize: z.union([z.number(), z.string()]).optional(),
});
const tidbErrorSchema = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  message: z.string().optional(),
});

async function checkTiDBCloud(
  input: Extract<CredentialInput, { kind: "tidbcloud" }>,
  baseUrl: string,
  context: CheckContext,
): Promise<VerifyResult> {
  const digestFetch = createDigestFetch({
    username: input.publicKey,
    password: input.privateKey,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  let answer: RawAnswer;
  try {
    const response = await digestFetch(`${baseUrl}/clusters?pageSize=1`, {
      headers: { accept: "application/json" },
      signal: context.signal,
    });
    answer = await readJson(response);
  } catch (error) {
    return unreachable(context, describeError(error, context));
  }
  if (answer.status === 401 || answer.status === 403) {
    const vendor = tidbErrorSchema.safeParse(answer.body);
    const note = vendorNote(vendor.success ? vendor.data.message : undefined);
    return {
      status: "rejected",
      message:
        answer.status === 401
          ? `TiDB Cloud rejected the API key${note}. Check the public and private key (Organization Settings → API Keys in the TiDB Cloud console) and that the key has not been deleted.`
          : `TiDB Cloud refused the API key${note}. Give the key a role that can read clusters, or create a new key.`,
    };
  }
  if (answer.status === 429)
    return unreachable(context, "rate limited by TiDB Cloud, 100 requests/min per key");
  if (answer.status < 200 || answer.status >= 300) return unreachable(context, statusReason(answer.status));
  const parsed = parseBody(tidbClustersSchema, answer);
  if (!parsed.ok) return unreachable(context, parsed.reason);
  // totalSize is an int64, which the gateway may serialize as a string.
  const total = parsed.data.totalSize === undefined ? Number.NaN : Number(parsed.data.totalSize);
  const count = Number.isInteger(total) ? ` (${total} cluster${total === 1 ? "" : "s"} visible)` : "";
  return { status: "verified", detail: `Signed in to TiDB Cloud; the API key can list clusters${count}` };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAI and Anthropic (official SDKs)

const openaiModelsSchema = z.object({ data: z.array(z.object({ id: z.string() })) });
const anthropicModelsSchema = z.object({
  data: z.array(z.object({ id: z.string() })),
  has_more: z.boolean(),
});
/** OpenAI puts `{code, type}` on `error.error`; Anthropic puts the whole `{type, error: {type}}` body there. */
const sdkErrorBodySchema = z.object({
  code: z.string().nullish(),
  type: z.string().nullish(),
  error: z.object({ type: z.string() }).optional(),
});

function sdkErrorNote(body: unknown): string {
  const parsed = sdkErrorBodySchema.safeParse(body);
  if (!parsed.success) return "";
  return vendorNote(parsed.data.code ?? parsed.data.error?.type ?? parsed.data.type);
}

function classifySdkError(
  error: unknown,
  context: CheckContext,
  apiError: typeof OpenAI.APIError | typeof Anthropic.APIError,
  rejected: (status: 401 | 403, note: string) => string,
): VerifyResult {
  if (error instanceof apiError && typeof error.status === "number") {
    if (error.status === 401 || error.status === 403) {
      return { status: "rejected", message: rejected(error.status, sdkErrorNote(error.error)) };
    }
    const hint = error.status === 404 ? ", check the base URL" : "";
    return unreachable(context, `${statusReason(error.status)}${hint}`);
  }
  return unreachable(context, describeError(error, context));
}

async function checkOpenAI(
  input: Extract<CredentialInput, { kind: "openai" }>,
  baseURL: string,
  context: CheckContext,
): Promise<VerifyResult> {
  const client = new OpenAI({
    apiKey: input.apiKey,
    baseURL,
    maxRetries: 0,
    timeout: context.timeoutMs,
    // Explicit nulls keep the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY.
    organization: null,
    project: null,
    adminAPIKey: null,
    logLevel: "off",
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  const where = input.baseUrl ? ` at ${context.host}` : "";
  let answer: RawAnswer;
  try {
    answer = await readJson(await client.models.list({ signal: context.signal }).asResponse());
  } catch (error) {
    return classifySdkError(error, context, OpenAI.APIError, (status, note) =>
      status === 401
        ? `OpenAI${where} rejected the API key${note}. Check that it was copied in full, or create a new key at platform.openai.com/api-keys.`
        : `OpenAI${where} refused the API key${note}. Check the key's project permissions and that your organization can use the API.`,
    );
  }
  const parsed = parseBody(openaiModelsSchema, answer);
  if (!parsed.ok) return unreachable(context, parsed.reason);
  const count = parsed.data.data.length;
  return {
    status: "verified",
    detail: `OpenAI${where} accepted the API key (${count} model${count === 1 ? "" : "s"} available)`,
  };
}

async function checkAnthropic(
  input: Extract<CredentialInput, { kind: "anthropic" }>,
  baseURL: string,
  context: CheckContext,
): Promise<VerifyResult> {
  const client = new Anthropic({
    apiKey: input.apiKey,
    baseURL,
    maxRetries: 0,
    timeout: context.timeoutMs,
    logLevel: "off",
    openTelemetry: false,
    // This SDK version sends an API key as `Authorization: Bearer`; the documented header is `x-api-key`, which
    // every Anthropic-compatible gateway accepts. `apiKey` stays set so the SDK never falls back to env/profiles.
    defaultHeaders: { "x-api-key": input.apiKey, authorization: null },
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  const where = input.baseUrl ? ` at ${context.host}` : "";
  let answer: RawAnswer;
  try {
    answer = await readJson(await client.models.list({}, { signal: context.signal }).asResponse());
  } catch (error) {
    return classifySdkError(error, context, Anthropic.APIError, (status, note) =>
      status === 401
        ? `Anthropic${where} rejected the API key${note}. Check that it was copied in full, or create a new key at console.anthropic.com/settings/keys.`
        : `Anthropic${where} refused the API key${note}. Check the key's workspace permissions.`,
    );
  }
  const parsed = parseBody(anthropicModelsSchema, answer);
  if (!parsed.ok) return unreachable(context, parsed.reason);
  const count = parsed.data.data.length;
  const more = parsed.data.has_more ? "+" : "";
  return {
    status: "verified",
    detail: `Anthropic${where} accepted the API key (${count}${more} model${count === 1 && !more ? "" : "s"} available)`,
  };
}
