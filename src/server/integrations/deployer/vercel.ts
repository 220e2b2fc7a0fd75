import { z } from "zod";
import { ProviderError } from "../provider-error";
import { boundedLogOf } from "./deployment-log";
import type { Deployer, DeployInput, Deployment } from "./port";
import { jsonOf, VercelApi } from "./vercel-api";
import { toDeployment, vercelDeploymentSchema } from "./vercel-deployment";
import { errorLinesOf, logLinesOf, parseEvents } from "./vercel-events";

/**
 * Deployer on Vercel's REST API: a preview deployment of a pushed GitHub commit into one Vercel project.
 *
 * Environment: each deployment carries its own variables in the create call — `env` (run time) and `build.env`
 * (build time), the fields behind the Vercel CLI's `--env` / `--build-env` — so two revisions deploying at once never
 * race on the project's shared environment variables, and nothing is left behind on the project.
 */

export type VercelDeployerOptions = {
  token: string;
  /** The team owning the project; omit for a personal account. */
  teamId?: string;
  /** The Vercel project deployments go to (connected to the GitHub org of the repos). */
  projectId: string;
  /** Default https://api.vercel.com. */
  apiUrl?: string;
  fetch?: typeof fetch;
  /** Per HTTP request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Between polls while waiting. Default 5 s (Vercel allows a few hundred API calls a minute per token). */
  pollIntervalMs?: number;
  /** How long waitForDeployment waits when the caller gives no timeout. Default 20 min. */
  waitTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Most error lines buildErrors returns (the last ones). Default 200. */
  buildErrorLimit?: number;
  /** How many build events to read from the end of the log. Default 2000. */
  buildEventLimit?: number;
};

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const deploymentIdPattern = /^[A-Za-z0-9_.-]{1,200}$/;
const repoPattern = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;
const shaPattern = /^[0-9a-f]{7,64}$/i;

function formatDuration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

const aliasLabelPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A published project's stable host on Vercel: a label of its own under vercel.app. */
function aliasHost(alias: string): string {
  if (!aliasLabelPattern.test(alias)) throw invalid(`"${alias.slice(0, 80)}" is not a valid alias name.`);
  return `${alias}.vercel.app`;
}

const assignedAliasSchema = z.object({ uid: z.string(), alias: z.string().min(1) });

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function invalid(message: string): ProviderError {
  return new ProviderError("vercel", "invalid", message);
}

/** Vercel names: lowercase letters, digits, ".", "_", "-", at most 100, no "---". */
function deploymentName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-{3,}/g, "--")
    .replace(/^[-._]+|[-._]+$/g, "")
    .slice(0, 100);
  return cleaned || "kiln";
}

function checkedEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!envNamePattern.test(name)) {
      throw invalid(
        `Environment variable name "${name.slice(0, 80)}" is not valid: use letters, digits and "_".`,
      );
    }
    // The deployments API reads a value starting with "@" as a reference to a (legacy) Vercel secret; the Vercel
    // CLI escapes it the same way so the literal value reaches the app.
    out[name] = value.startsWith("@") ? `\\${value}` : value;
  }
  return out;
}

function gitSourceOf(input: DeployInput): {
  type: "github";
  org: string;
  repo: string;
  ref: string;
  sha: string;
} {
  const { source } = input;
  if (source.kind !== "git") {
    throw new ProviderError(
      "vercel",
      "unsupported",
      "The Vercel deployer deploys pushed git commits; a directory source needs the local deployer.",
    );
  }
  const match = repoPattern.exec(source.repoFullName);
  if (!match?.[1] || !match[2]) {
    throw invalid(
      `Repository "${source.repoFullName.slice(0, 140)}" is not an "owner/name" GitHub repository.`,
    );
  }
  if (!shaPattern.test(source.sha))
    throw invalid(`Commit "${source.sha.slice(0, 80)}" is not a git commit sha.`);
  if (!source.ref.trim()) throw invalid("The git ref to deploy is empty.");
  return { type: "github", org: match[1], repo: match[2], ref: source.ref, sha: source.sha };
}

export function createVercelDeployer(options: VercelDeployerOptions): Deployer {
  const sleep = options.sleep ?? defaultSleep;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const api = new VercelApi({
    token: options.token,
    teamId: options.teamId,
    apiUrl: options.apiUrl ?? "https://api.vercel.com",
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
    sleep,
  });
  const parseDeployment = jsonOf(vercelDeploymentSchema, "a deployment");
  const buildEventLimit = options.buildEventLimit ?? 2_000;

  /** The newest `buildEventLimit` build events, newest first; null for an unknown deployment when asked. */
  async function buildEvents(id: string, read: { nullOn404?: boolean } = {}) {
    return api.call({
      method: "GET",
      path: `/v3/deployments/${encodeURIComponent(id)}/events`,
      query: { builds: "1", direction: "backward", limit: String(buildEventLimit) },
      action: `reading the build log of deployment ${id}`,
      parse: parseEvents,
      idempotent: true,
      ...(read.nullOn404 ? { nullOn404: true } : {}),
    });
  }

  async function getDeployment(id: string): Promise<Deployment | null> {
    // No Vercel deployment id looks otherwise; asking would only produce a 404 or a wrong path.
    if (!deploymentIdPattern.test(id)) return null;
    const found = await api.call({
      method: "GET",
      path: `/v13/deployments/${encodeURIComponent(id)}`,
      action: `reading deployment ${id}`,
      parse: parseDeployment,
      idempotent: true,
      nullOn404: true,
    });
    return found && toDeployment(found);
  }

  type Poll = { deployment: Deployment | null } | { unreachable: ProviderError };

  async function pollOnce(id: string): Promise<Poll> {
    try {
      return { deployment: await getDeployment(id) };
    } catch (error) {
      // An outage or rate limit while waiting is not the deployment's failure: keep waiting until the deadline.
      if (error instanceof ProviderError && error.retryable) return { unreachable: error };
      throw error;
    }
  }

  async function deploy(input: DeployInput): Promise<Deployment> {
    const gitSource = gitSourceOf(input);
    const env = checkedEnv(input.env);
    const created = await api.call({
      method: "POST",
      path: "/v13/deployments",
      // forceNew: a redeploy of the same commit with a new environment must build again, not reuse a match.
      query: { forceNew: "1", skipAutoDetectionConfirmation: "1" },
      body: {
        name: deploymentName(input.name),
        project: options.projectId,
        gitSource,
        env,
        build: { env },
        meta: { kilnName: input.name.slice(0, 256) },
      },
      action: `creating a deployment of ${gitSource.org}/${gitSource.repo}@${gitSource.sha.slice(0, 7)}`,
      parse: parseDeployment,
      idempotent: false,
      notFoundHint: `Check the project id ${options.projectId} and that the repository is connected to Vercel.`,
      secrets: Object.values(input.env),
    });
    if (!created)
      throw new ProviderError("vercel", "internal", "Vercel answered the deployment create with nothing.");
    return toDeployment(created);
  }

  return {
    kind: "vercel",
    vendor: "vercel",

    deploy,

    // `prebuilt` (the runner's `.next`) goes unused: Vercel builds the pushed commit itself (docs/providers.md).
    async deployCommit({ commit, ...input }) {
      if (commit.repo.host !== "github") {
        throw new ProviderError(
          "vercel",
          "invalid",
          "Vercel deploys build from GitHub, but this project's code is in a local repository: choose GitHub for its code or the local deployer.",
        );
      }
      return deploy({
        ...input,
        source: { kind: "git", repoFullName: commit.repo.fullName, ref: commit.branch, sha: commit.sha },
      });
    },

    getDeployment,

    async waitForDeployment(id, waitOptions) {
      const timeoutMs = waitOptions?.timeoutMs ?? options.waitTimeoutMs ?? 20 * 60_000;
      const deadline = Date.now() + timeoutMs;
      const maxPolls = Math.ceil(timeoutMs / pollIntervalMs) + 1;
      let lastState = "unreachable";
      for (let poll = 1; poll <= maxPolls; poll++) {
        const result = await pollOnce(id);
        let waitMs = pollIntervalMs;
        if ("unreachable" in result) {
          waitMs = Math.max(pollIntervalMs, result.unreachable.retryAfterMs ?? 0);
        } else if (result.deployment === null) {
          throw new ProviderError(
            "vercel",
            "not_found",
            `Vercel deployment ${id} no longer exists (removed?).`,
          );
        } else {
          const { deployment } = result;
          if (
            deployment.state === "ready" ||
            deployment.state === "error" ||
            deployment.state === "canceled"
          ) {
            return deployment;
          }
          lastState = deployment.state;
        }
        if (Date.now() + waitMs > deadline) break;
        await sleep(waitMs);
      }
      throw new ProviderError(
        "vercel",
        "timeout",
        `Vercel deployment ${id} was still ${lastState} after ${formatDuration(timeoutMs)}; ` +
          "it may still finish — wait again, or check it in the Vercel dashboard.",
      );
    },

    async buildErrors(id) {
      if (!deploymentIdPattern.test(id)) throw invalid(`"${id.slice(0, 80)}" is not a Vercel deployment id.`);
      return errorLinesOf((await buildEvents(id)) ?? [], options.buildErrorLimit ?? 200);
    },

    // Vercel keeps the build's events; the running app's output is in its runtime logs, which this does not read.
    async deploymentLog(id, logOptions) {
      if (!deploymentIdPattern.test(id)) return null;
      const events = await buildEvents(id, { nullOn404: true });
      if (events === null) return null;
      const log = boundedLogOf(logLinesOf(events), logOptions?.secrets ?? []);
      // A full page of events read from the end: older ones are left out.
      return { ...log, truncated: log.truncated || events.length >= buildEventLimit };
    },

    async remove(id) {
      if (!deploymentIdPattern.test(id)) return;
      await api.call({
        method: "DELETE",
        path: `/v13/deployments/${encodeURIComponent(id)}`,
        action: `removing deployment ${id}`,
        parse: () => undefined,
        idempotent: true,
        // Already gone is what remove wants.
        nullOn404: true,
      });
    },

    // Vercel deployments are immutable and cheap to keep: a newer one replaces none of them.
    retireReplaced: async () => false,

    // Assigning an alias another deployment holds moves it (Vercel's "assign an alias"): one call switches what the
    // stable URL serves, with no gap.
    async publish(id, alias) {
      if (!deploymentIdPattern.test(id)) throw invalid(`"${id.slice(0, 80)}" is not a Vercel deployment id.`);
      const host = aliasHost(alias);
      const assigned = await api.call({
        method: "POST",
        path: `/v2/deployments/${encodeURIComponent(id)}/aliases`,
        body: { alias: host },
        action: `assigning ${host} to deployment ${id}`,
        parse: jsonOf(assignedAliasSchema, "an alias assignment"),
        // The same alias on the same deployment again is the same state.
        idempotent: true,
      });
      if (!assigned) throw new ProviderError("vercel", "internal", "Vercel answered the alias with nothing.");
      return { url: `https://${assigned.alias}` };
    },

    async unpublish(alias) {
      const host = aliasHost(alias);
      await api.call({
        method: "DELETE",
        path: `/v2/aliases/${encodeURIComponent(host)}`,
        action: `removing alias ${host}`,
        parse: () => undefined,
        idempotent: true,
        // Already gone is what unpublish wants.
        nullOn404: true,
      });
    },
  };
}
