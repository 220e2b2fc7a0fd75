import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { LoginPolicy } from "@/server/auth/login";
import type { Env } from "@/server/config/env-schema";
import { type CredentialContext, resolveCredential } from "@/server/credentials/credential-store";
import { platformDefaultsFromEnv, vendorEndpointsFromEnv } from "@/server/credentials/platform-defaults";
import { ensureSecretKeyFile, loadSecretKey } from "@/server/crypto/secret-key";
import type { Database } from "@/server/db/connection";
import type { Project } from "@/server/db/schema";
import { platformSecretsFromEnv } from "@/server/events/known-secrets";
import type { RunBudgetDefaults } from "@/server/gateway/budget";
import { parseDefaultPrice } from "@/server/gateway/prices";
import type { GatewayDeps } from "@/server/gateway/proxy";
import { credentialUpstreamResolver } from "@/server/gateway/upstream";
import { type PauseReader, pauseReader } from "@/server/governance/pause-state";
import type { QuotaLimits } from "@/server/governance/quota-limits";
import type { RepoImporter } from "@/server/integrations/git-host/repo-importer";
import { localLayout, type Providers, providersFor, repoImporterFor } from "@/server/integrations/registry";
import { verifyCredential } from "@/server/integrations/verify-credential";
import { planForOperator } from "@/server/planner/plan-for-operator";
import type { CachePaths } from "@/server/preparation/prepare-caches";
import type { PreviewOrigins } from "@/server/previews/preview-origin";
import { previewOriginsFromEnv } from "@/server/previews/preview-origins-from-env";
import { providerChoicesOf } from "@/server/projects/project-resources";
import { buildRunnerBundle } from "@/server/runner-bundle/build-runner";
import type { PublicHost } from "@/server/share-links/host-details";
import { ensureTemplateCache } from "@/server/templates/template-cache";
import type { RunnerEventDeps } from "../pipeline/advance-from-runner";
import type { CarryOnDeps } from "../pipeline/carry-on";
import type { FinishSettings } from "../pipeline/finish-revision";
import type { PipelineDeps } from "../pipeline/run-revision";
import { findChromium } from "../pipeline/screenshot";
import { cachePaths } from "./cache-paths";

// Everything the platform's entry points and jobs hand on, built from a parsed environment and a database.
// Domain functions never read the environment or a singleton: they take what they need from here, as arguments.

export type Platform = {
  db: Database;
  /** The secret key and vendor settings; loaded on first use, so pages that never touch credentials need no key. */
  readonly credentials: CredentialContext;
  loginPolicy: LoginPolicy;
  sessionCookie: { name: string; secure: boolean };
  /** KILN_PUBLIC_URL, without a trailing slash: where operators and share-link viewers reach this Kiln. */
  publicUrl: string;
  /**
   * Where local previews and deployments are served (labels keyed by the secret key); built on first use, which
   * creates the key file when a bare `next start` has none yet.
   */
  readonly previewOrigins: PreviewOrigins;
  /** What the public replay hides of this machine (share-links/host-details.ts). */
  publicHost: PublicHost;
  /** What this server offers besides operators' own credentials (see operations/start-project.ts). */
  platformProviders: { mysqlBranches: boolean; vercelBlob: boolean };
  /** The platform's own secrets, redacted from every stored event. */
  platformSecrets: string[];
  /** How many database branches a project keeps when it set no retention of its own. */
  branchRetention: number;
  /** The template and toolchain caches and the boot preparation's records (the dashboard reads their status). */
  caches: CachePaths;
  providersFor(project: Project): Promise<Providers>;
  /** Fetches repositories to import for an operator, with their GitHub token (or the platform's) when there is one. */
  importerFor(userId: string): Promise<RepoImporter>;
  pipelineDeps(project: Project): Promise<PipelineDeps>;
  runnerEventDeps(): RunnerEventDeps;
  /** This app server, as leases and sandboxes record it. */
  serverId: string;
  carryOnDeps(): CarryOnDeps;
  gatewayDeps(): GatewayDeps;
  /** A run's budget where its project sets none (KILN_RUN_BUDGET_*; 0 = no limit). */
  runBudget: RunBudgetDefaults;
  /** Operators' quotas where they have no override (KILN_QUOTA_*); null = no limit. */
  quotas: QuotaLimits;
  /** The kill switch's state, through this server's short cache (governance/pause-state.ts). */
  pause: PauseReader;
};

const SERVER_ID = Symbol.for("kiln.serverId");

/**
 * This process's id as leases and sandboxes record it: one per process, shared by every bundled copy of this
 * module (a sandbox started from a route must belong to the server whose timer says it is alive).
 */
function processServerId(): string {
  const existing: unknown = Reflect.get(globalThis, SERVER_ID);
  if (typeof existing === "string") return existing;
  const id = `${os.hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  Reflect.set(globalThis, SERVER_ID, id);
  return id;
}

export function wirePlatform(env: Env, db: Database): Platform {
  const serverId = processServerId();
  const registryHost = npmRegistryHost(process.env.npm_config_registry);
  const settings = {
    dataDir: env.dataDir,
    platformRoot: process.cwd(),
    sandboxUid: env.KILN_SANDBOX_UID,
    sandboxAllowedHosts: [registryHost, ...env.KILN_SANDBOX_ALLOWED_HOSTS],
    sandboxRegistryHost: registryHost,
    githubApiUrl: env.GITHUB_API_URL,
    vercelApiUrl: env.VERCEL_API_URL,
    tidbCloudApiUrl: env.TIDB_CLOUD_API_URL,
    branchesMysqlUrl: env.KILN_BRANCHES_MYSQL_URL,
    blobToken: env.BLOB_READ_WRITE_TOKEN,
    warmDependencies: async () =>
      (await ensureTemplateCache({ templateDir, cacheRoot: templateCacheRoot })).dir,
    importRoots: env.KILN_IMPORT_ROOTS,
  };
  const endpoints = vendorEndpointsFromEnv(env);
  let loadedCredentials: CredentialContext | undefined;
  const credentialContext = (): CredentialContext => {
    loadedCredentials ??= {
      key: loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
      endpoints,
      platformDefaults: platformDefaultsFromEnv(env),
      verify: (input) => verifyCredential(input, { endpoints }),
    };
    return loadedCredentials;
  };
  let loadedPreviewOrigins: PreviewOrigins | undefined;
  const previewOriginsOnce = (): PreviewOrigins => {
    if (!loadedPreviewOrigins) {
      // `npm run dev`/`npm start` create the key before the server starts; a bare `next start` gets one here.
      ensureSecretKeyFile(env.KILN_SECRET_KEY, env.dataDir);
      loadedPreviewOrigins = previewOriginsFromEnv(env);
    }
    return loadedPreviewOrigins;
  };
  let runnerBundle: Promise<{ file: string }> | undefined;
  const layout = localLayout(env.dataDir);
  const caches = cachePaths(env.dataDir);
  const { templateDir, templateCacheRoot } = caches;
  const finish: FinishSettings = {
    autoDeploy: env.KILN_AUTO_DEPLOY,
    chromiumPath: findChromium(env.KILN_CHROMIUM_PATH),
  };

  async function projectProviders(project: Project): Promise<Providers> {
    const credentials = credentialContext();
    const [github, vercel, tidbcloud] = await Promise.all([
      resolveCredential(db, credentials, project.user_id, "github"),
      resolveCredential(db, credentials, project.user_id, "vercel"),
      resolveCredential(db, credentials, project.user_id, "tidbcloud"),
    ]);
    return providersFor(providerChoicesOf(project), settings, {
      github: github?.payload,
      vercel: vercel?.payload,
      tidbcloud: tidbcloud?.payload,
    });
  }

  const quotas: QuotaLimits = {
    buildsPerDay: env.KILN_QUOTA_BUILDS_PER_DAY ?? null,
    concurrentRuns: env.KILN_QUOTA_CONCURRENT_RUNS ?? null,
    tokensPerMonth: env.KILN_QUOTA_TOKENS_PER_MONTH ?? null,
    usdPerMonthMicros:
      env.KILN_QUOTA_USD_PER_MONTH === undefined
        ? null
        : Math.round(env.KILN_QUOTA_USD_PER_MONTH * 1_000_000),
  };
  const pause = pauseReader(db);
  const runBudget: RunBudgetDefaults = {
    tokens: env.KILN_RUN_BUDGET_TOKENS,
    usdMicros: Math.round(env.KILN_RUN_BUDGET_USD * 1_000_000),
  };

  const platform: Platform = {
    db,
    quotas,
    pause,
    runBudget,
    get credentials() {
      return credentialContext();
    },
    loginPolicy: {
      maxAttemptsPerAccount: env.KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
      maxAttemptsPerIp: env.KILN_LOGIN_MAX_ATTEMPTS_PER_IP,
      maxAttemptsPerAccountTotal: env.KILN_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT_TOTAL,
      windowMs: env.KILN_LOGIN_WINDOW_MINUTES * 60_000,
      sessionTtlMs: env.KILN_SESSION_TTL_HOURS * 3_600_000,
    },
    sessionCookie: { name: "kiln_session", secure: env.KILN_PUBLIC_URL.startsWith("https://") },
    publicUrl: env.KILN_PUBLIC_URL,
    get previewOrigins() {
      return previewOriginsOnce();
    },
    publicHost: {
      publicUrl: env.KILN_PUBLIC_URL,
      previewDomain: env.KILN_PREVIEW_DOMAIN,
      dataDir: env.dataDir,
      platformRoot: settings.platformRoot,
    },
    platformProviders: {
      mysqlBranches: env.KILN_BRANCHES_MYSQL_URL !== undefined,
      vercelBlob: env.BLOB_READ_WRITE_TOKEN !== undefined,
    },
    platformSecrets: platformSecretsFromEnv(env),
    branchRetention: env.KILN_BRANCH_RETENTION,
    caches,
    providersFor: projectProviders,
    async importerFor(userId) {
      const github = await resolveCredential(db, credentialContext(), userId, "github");
      return repoImporterFor(settings, { github: github?.payload });
    },
    gatewayDeps() {
      const credentials = credentialContext();
      return {
        db,
        secretKey: credentials.key,
        resolveUpstream: credentialUpstreamResolver(db, credentials),
        budget: runBudget,
        quotas,
        pause,
        models: {
          extraModels: env.KILN_GATEWAY_EXTRA_MODELS,
          defaultPrice: parseDefaultPrice(env.KILN_GATEWAY_DEFAULT_PRICE),
        },
      };
    },
    async pipelineDeps(project) {
      const credentials = credentialContext();
      return {
        db,
        key: credentials.key,
        providers: await projectProviders(project),
        templateDir,
        templateCacheRoot,
        toolchainsRoot: caches.toolchainsRoot,
        sandboxTimeoutMs: 2 * 3_600_000,
        serverId,
        publicUrl: env.KILN_PUBLIC_URL,
        runTokenTtlMs: 3 * 3_600_000,
        finish,
        runnerBundle: () => {
          runnerBundle ??= buildRunnerBundle(path.join(layout.sandboxes, "..", "runner"));
          return runnerBundle;
        },
        plan: (input) =>
          planForOperator(db, credentials, input, {
            defaultPrice: parseDefaultPrice(env.KILN_GATEWAY_DEFAULT_PRICE),
            models: { openai: env.OPENAI_PLANNER_MODEL, anthropic: env.ANTHROPIC_PLANNER_MODEL },
          }),
      };
    },
    serverId,
    carryOnDeps() {
      return {
        db,
        serverId,
        pause,
        pipelineDeps: (project) => platform.pipelineDeps(project),
        runnerEventDeps: () => platform.runnerEventDeps(),
      };
    },
    runnerEventDeps() {
      return {
        db,
        key: credentialContext().key,
        providersFor: projectProviders,
        templateDir,
        templateCacheRoot,
        finish,
      };
    },
  };
  return platform;
}

/** The registry npm uses in sandboxes (the platform's npm_config_registry, passed on by template-cache.ts). */
function npmRegistryHost(registry: string | undefined): string {
  if (!registry) return "registry.npmjs.org";
  try {
    return new URL(registry).host;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return "registry.npmjs.org";
  }
}
