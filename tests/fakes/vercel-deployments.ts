import { randomBytes } from "node:crypto";
import {
  dispatch,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type FakeVendorOptions,
  json,
  route,
  startFakeHttpServer,
} from "./http";

/**
 * Vercel deployments API as documented (REST reference, @vercel/sdk models): Bearer tokens (403 `forbidden` with
 * `invalidToken`/`missingToken` for a bad one), `?teamId=` naming the account (403 for a team the token is not in),
 * errors `{error: {code, message}}`, rate limits as 429 `rate_limited` with `X-RateLimit-Limit/-Remaining/-Reset`.
 * - `POST /v13/deployments` `{name, project, gitSource: {type: "github", org, repo, ref, sha}, env?, build?: {env?},
 *   meta?, target?}` → the deployment, `readyState: "QUEUED"`;
 * - `GET /v13/deployments/:id` → the deployment; every read advances it QUEUED → BUILDING → READY or ERROR
 *   (`errorCode`, `errorMessage`, `errorStep`) after `pollsPerState` reads per state;
 * - `GET /v3/deployments/:id/events?builds=1&direction=backward&limit=N` → build events, a JSON array;
 * - `DELETE /v13/deployments/:id` → `{uid, state: "DELETED"}`; unknown ids 404 `not_found`;
 * - `POST /v2/deployments/:id/aliases` `{alias}` → `{uid, alias, created, oldDeploymentId?}`: the alias moves to this
 *   (ready) deployment from whichever held it in the account; another account's alias is 409 `alias_in_use`;
 * - `DELETE /v2/aliases/:aliasOrId` → `{status: "SUCCESS"}`; an unknown alias 404 `not_found`.
 * Each deployment records the env it was created with, so tests can show concurrent deploys kept their own.
 */

export type FakeVercelDeployment = {
  id: string;
  accountId: string;
  projectId: string;
  name: string;
  host: string;
  gitSource: { type: string; org: string; repo: string; ref: string; sha: string };
  env: Record<string, string>;
  buildEnv: Record<string, string>;
  meta: Record<string, string>;
  outcome: "ready" | "error";
  reads: number;
  createdAt: number;
  deleted: boolean;
  events: FakeBuildEvent[];
};

export type FakeBuildEvent = { type: "stdout" | "stderr" | "command"; text: string; created: number };

export type FakeVercelDeploymentsOptions = FakeVendorOptions & {
  token: string;
  userId?: string;
  teams?: Array<{ id: string; slug: string }>;
  projects: Array<{ id: string; name: string; accountId: string }>;
  /** Repositories ("org/repo") that exist; others fail like an unknown git source. Default: any. */
  repos?: string[];
  /** Commits whose build fails. */
  failingShas?: string[];
  /** stderr lines of a failing build. */
  failingBuildErrors?: string[];
  /** Reads spent in QUEUED and in BUILDING before the deployment finishes. Default 1. */
  pollsPerState?: number;
  /** Events in the flat shape (`{type, text, …}`) or nested (`{type, payload: {text, …}}`). Default flat. */
  eventShape?: "flat" | "payload";
};

export type FakeVercelAlias = { uid: string; alias: string; deploymentId: string; accountId: string };

export type FakeVercelDeployments = FakeServer & {
  deployments: Map<string, FakeVercelDeployment>;
  /** Aliases by host name. */
  aliases: Map<string, FakeVercelAlias>;
};

function vercelError(status: number, code: string, message: string, extra: Record<string, unknown> = {}) {
  return json(status, { error: { code, message, ...extra } });
}

/** The request's JSON body, or Vercel's 400 for one that is not JSON. */
function jsonBodyOf(request: FakeRequest): { body: unknown } | FakeReply {
  try {
    return { body: JSON.parse(request.body) };
  } catch (error) {
    if (error instanceof SyntaxError) return vercelError(400, "bad_request", "Invalid JSON body");
    throw error;
  }
}

/** A 429 as Vercel sends it: rate-limit headers with the reset as epoch seconds. */
export function vercelRateLimited(resetInSeconds: number): FakeReply {
  const reset = Math.ceil(Date.now() / 1000) + resetInSeconds;
  return json(
    429,
    {
      error: {
        code: "rate_limited",
        message: "Rate limit exceeded",
        limit: { remaining: 0, reset, resetMs: reset * 1000, total: 100 },
      },
    },
    { "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
  );
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === "string")
  );
}

function field(value: unknown, name: string): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return Object.getOwnPropertyDescriptor(value, name)?.value;
}

const defaultBuildErrors = [
  "./app/page.tsx:12:7",
  "Type error: Property 'title' does not exist on type 'Todo'.",
  '\u001b[31mError:\u001b[39m Command "npm run build" exited with 1',
];

export function startFakeVercelDeployments(
  options: FakeVercelDeploymentsOptions,
): Promise<FakeVercelDeployments> {
  const userId = options.userId ?? "usr_fake0000000000000001";
  const teams = options.teams ?? [];
  const pollsPerState = options.pollsPerState ?? 1;
  const deployments = new Map<string, FakeVercelDeployment>();
  const aliases = new Map<string, FakeVercelAlias>();

  function assignAlias(request: FakeRequest): FakeReply {
    const found = findDeployment(request);
    if (!("id" in found)) return found;
    const parsed = jsonBodyOf(request);
    if (!("body" in parsed)) return parsed;
    const { body } = parsed;
    const alias = field(body, "alias");
    if (typeof alias !== "string" || !/^[a-z0-9.-]+\.[a-z]+$/.test(alias)) {
      return vercelError(400, "invalid_alias", "The alias is not a valid host name.");
    }
    if (stateOf(found) !== "READY") {
      return vercelError(400, "deployment_not_ready", "The deployment is not ready yet.");
    }
    const held = aliases.get(alias);
    if (held && held.accountId !== found.accountId) {
      return vercelError(409, "alias_in_use", `The alias ${alias} is in use by another account.`);
    }
    const uid = held?.uid ?? `als_${randomBytes(8).toString("hex")}`;
    aliases.set(alias, { uid, alias, deploymentId: found.id, accountId: found.accountId });
    return json(200, {
      uid,
      alias,
      created: new Date().toISOString(),
      ...(held ? { oldDeploymentId: held.deploymentId } : {}),
    });
  }

  function removeAlias(request: FakeRequest): FakeReply {
    const account = accountOf(request);
    if (typeof account !== "string") return account;
    const key = request.params.alias ?? "";
    const held = aliases.get(key) ?? [...aliases.values()].find((candidate) => candidate.uid === key);
    if (!held || held.accountId !== account) return vercelError(404, "not_found", "Alias not found");
    aliases.delete(held.alias);
    return json(200, { status: "SUCCESS" });
  }

  /** The account a request acts for, or a 403 reply for a team the token is not a member of. */
  function accountOf(request: FakeRequest): string | FakeReply {
    const teamId = request.url.searchParams.get("teamId");
    if (!teamId) return userId;
    return teams.some((team) => team.id === teamId)
      ? teamId
      : vercelError(403, "forbidden", "Not authorized");
  }

  function stateOf(deployment: FakeVercelDeployment): string {
    if (deployment.reads < pollsPerState) return "QUEUED";
    if (deployment.reads < 2 * pollsPerState) return "BUILDING";
    return deployment.outcome === "ready" ? "READY" : "ERROR";
  }

  function deploymentJson(deployment: FakeVercelDeployment) {
    const readyState = stateOf(deployment);
    return {
      id: deployment.id,
      uid: deployment.id,
      name: deployment.name,
      url: deployment.host,
      projectId: deployment.projectId,
      ownerId: deployment.accountId,
      createdAt: deployment.createdAt,
      readyState,
      status: readyState,
      target: null,
      type: "LAMBDAS",
      source: "git",
      alias: readyState === "READY" ? [`${deployment.name}-git-main.vercel.app`] : [],
      aliasAssigned: readyState === "READY",
      inspectorUrl: `https://vercel.com/fake/${deployment.name}/${deployment.id.slice(4)}`,
      meta: deployment.meta,
      gitSource: deployment.gitSource,
      build: { env: Object.keys(deployment.buildEnv) },
      env: Object.keys(deployment.env),
      ...(readyState === "ERROR"
        ? {
            errorCode: "BUILD_UTILS_SPAWN_1",
            errorMessage: 'Command "npm run build" exited with 1',
            errorStep: "build",
          }
        : {}),
    };
  }

  function findDeployment(request: FakeRequest): FakeVercelDeployment | FakeReply {
    const account = accountOf(request);
    if (typeof account !== "string") return account;
    const deployment = deployments.get(request.params.id ?? "");
    if (!deployment || deployment.deleted || deployment.accountId !== account) {
      return vercelError(404, "not_found", "Deployment not found");
    }
    return deployment;
  }

  function create(request: FakeRequest): FakeReply {
    const account = accountOf(request);
    if (typeof account !== "string") return account;
    const parsed = jsonBodyOf(request);
    if (!("body" in parsed)) return parsed;
    const { body } = parsed;
    const name = field(body, "name");
    if (typeof name !== "string" || !name) {
      return vercelError(400, "bad_request", "Invalid request: missing required property `name`.");
    }
    const projectRef = field(body, "project") ?? name;
    const project = options.projects.find(
      (candidate) =>
        candidate.accountId === account && (candidate.id === projectRef || candidate.name === projectRef),
    );
    if (!project) return vercelError(404, "not_found", "Project not found");
    const gitSource = field(body, "gitSource");
    const [type, org, repo, ref, sha] = ["type", "org", "repo", "ref", "sha"].map((key) =>
      field(gitSource, key),
    );
    if (type !== "github" || typeof org !== "string" || typeof repo !== "string" || typeof ref !== "string") {
      return vercelError(400, "bad_request", "Invalid request: `gitSource` should be a valid GitHub source.");
    }
    if (sha !== undefined && typeof sha !== "string") {
      return vercelError(400, "bad_request", "Invalid request: `gitSource.sha` should be string.");
    }
    if (options.repos && !options.repos.includes(`${org}/${repo}`)) {
      return vercelError(
        400,
        "incorrect_git_source_info",
        "The provided GitHub repository does not contain the requested branch or commit reference. Please ensure the repository is not empty.",
      );
    }
    const env = field(body, "env") ?? {};
    const buildEnv = field(field(body, "build"), "env") ?? {};
    const meta = field(body, "meta") ?? {};
    if (!isStringRecord(env) || !isStringRecord(buildEnv) || !isStringRecord(meta)) {
      return vercelError(
        400,
        "bad_request",
        "Invalid request: `env`, `build.env` and `meta` should be objects of strings.",
      );
    }
    const id = `dpl_${randomBytes(14).toString("base64url").replace(/[-_]/g, "x")}`;
    const failing = typeof sha === "string" && (options.failingShas ?? []).includes(sha);
    const created = Date.now();
    const stdout = [
      `Cloning github.com/${org}/${repo} (Branch: ${ref}, Commit: ${String(sha ?? "HEAD").slice(0, 7)})`,
      'Running "vercel build"',
      'Running "npm run build"',
      "> next build",
    ];
    const stderr = failing ? (options.failingBuildErrors ?? defaultBuildErrors) : [];
    const events: FakeBuildEvent[] = [
      ...stdout.map((text, i) => ({ type: "stdout" as const, text, created: created + i })),
      ...stderr.map((text, i) => ({ type: "stderr" as const, text, created: created + stdout.length + i })),
    ];
    const deployment: FakeVercelDeployment = {
      id,
      accountId: account,
      projectId: project.id,
      name: project.name,
      host: `${project.name}-${randomBytes(5).toString("hex").slice(0, 9)}-${account.slice(-6).toLowerCase()}.vercel.app`,
      gitSource: { type, org, repo, ref, sha: typeof sha === "string" ? sha : "" },
      env,
      buildEnv,
      meta,
      outcome: failing ? "error" : "ready",
      reads: 0,
      createdAt: created,
      deleted: false,
      events,
    };
    deployments.set(id, deployment);
    return json(200, deploymentJson(deployment));
  }

  function eventsOf(deployment: FakeVercelDeployment, params: URLSearchParams) {
    const backward = params.get("direction") === "backward";
    const limit = Number(params.get("limit") ?? "100");
    const ordered = backward ? [...deployment.events].reverse() : deployment.events;
    const page = limit === -1 ? ordered : ordered.slice(0, Math.max(0, limit));
    return page.map((event, index) => {
      const common = {
        deploymentId: deployment.id,
        id: `evt_${index}`,
        date: event.created,
        serial: `${event.created}-${index}`,
        info: { type: "build", name: "bld_fake", entrypoint: "." },
      };
      const level = event.type === "stderr" ? { level: "error" } : {};
      return options.eventShape === "payload"
        ? { type: event.type, created: event.created, payload: { ...common, text: event.text } }
        : { type: event.type, created: event.created, text: event.text, ...common, ...level };
    });
  }

  const routes = [
    ...(options.routes ?? []),
    route("POST", "/v13/deployments", create),
    route("GET", "/v13/deployments/:id", (request) => {
      const found = findDeployment(request);
      if (!("id" in found)) return found;
      const answer = deploymentJson(found);
      found.reads += 1;
      return json(200, answer);
    }),
    route("GET", "/v3/deployments/:id/events", (request) => {
      const found = findDeployment(request);
      if (!("id" in found)) return found;
      return json(200, eventsOf(found, request.url.searchParams));
    }),
    route("POST", "/v2/deployments/:id/aliases", assignAlias),
    route("DELETE", "/v2/aliases/:alias", removeAlias),
    route("DELETE", "/v13/deployments/:id", (request) => {
      const found = findDeployment(request);
      if (!("id" in found)) return found;
      found.deleted = true;
      return json(200, { uid: found.id, state: "DELETED" });
    }),
  ];

  return startFakeHttpServer(async (request) => {
    const intercepted = await options.intercept?.(request);
    if (intercepted) return intercepted;
    const authorization = request.header("authorization");
    if (!authorization) {
      return vercelError(403, "forbidden", "The request is missing an authentication token", {
        missingToken: true,
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match?.[1] !== options.token) {
      return vercelError(403, "forbidden", "Not authorized", { invalidToken: true });
    }
    return (
      (await dispatch(routes, request)) ?? vercelError(404, "not_found", "The requested path was not found")
    );
  }).then((server) => Object.assign(server, { deployments, aliases }));
}
