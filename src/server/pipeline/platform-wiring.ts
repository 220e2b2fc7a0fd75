import path from "node:path";
import type { Env } from "@/server/config/env-schema";
import {
  type CredentialContext,
  isTrustedModelUrl,
  resolveCredential,
} from "@/server/credentials/credential-store";
import { platformDefaultsFromEnv, vendorEndpointsFromEnv } from "@/server/credentials/platform-defaults";
import { loadSecretKey } from "@/server/crypto/secret-key";
import type { Database } from "@/server/db/connection";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { localLayout, type Providers, providersFor } from "@/server/integrations/registry";
import { planApp } from "@/server/planner/plan-app";
import { providerChoicesOf } from "@/server/projects/project-resources";
import { buildRunnerBundle } from "@/server/runner-bundle/build-runner";
import type { RunnerEventDeps } from "./advance-from-runner";
import type { FinishSettings } from "./finish-revision";
import { plannerFor } from "./models";
import type { PipelineDeps } from "./run-revision";
import { findChromium } from "./screenshot";

// The pipeline wired to a parsed environment and a database. Plain (no `server-only`) so the reconciler timer,
// which starts from instrumentation outside the React server graph, wires the same pipeline as the routes do.

export type PlatformWiring = {
  db: Database;
  credentials: CredentialContext;
  providersFor(project: Project): Promise<Providers>;
  pipelineDeps(project: Project): Promise<PipelineDeps>;
  runnerEventDeps(): RunnerEventDeps;
};

let runnerBundle: Promise<{ file: string }> | undefined;

export function platformWiring(env: Env, db: Database): PlatformWiring {
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
  };
  const credentials: CredentialContext = {
    key: loadSecretKey(env.KILN_SECRET_KEY, env.dataDir),
    endpoints: vendorEndpointsFromEnv(env),
    platformDefaults: platformDefaultsFromEnv(env),
  };
  const layout = localLayout(env.dataDir);
  const templateDir = path.resolve("templates/nextjs-app");
  const templateCacheRoot = path.join(env.dataDir, "templates");
  const finish: FinishSettings = {
    autoDeploy: env.KILN_AUTO_DEPLOY,
    chromiumPath: findChromium(env.KILN_CHROMIUM_PATH),
    stagingRoot: path.join(env.dataDir, "staging"),
  };

  async function projectProviders(project: Project): Promise<Providers> {
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

  return {
    db,
    credentials,
    providersFor: projectProviders,
    async pipelineDeps(project) {
      return {
        db,
        key: credentials.key,
        providers: await projectProviders(project),
        templateDir,
        templateCacheRoot,
        toolchainsRoot: path.join(env.dataDir, "toolchains"),
        sandboxTimeoutMs: 2 * 3_600_000,
        publicUrl: env.KILN_PUBLIC_URL,
        runTokenTtlMs: 3 * 3_600_000,
        finish,
        runnerBundle: () => {
          runnerBundle ??= buildRunnerBundle(path.join(layout.sandboxes, "..", "runner"));
          return runnerBundle;
        },
        async plan({ userId, agent, prompt }) {
          const planner = plannerFor[agent];
          const credential = await resolveCredential(db, credentials, userId, planner.provider);
          if (!credential) {
            const vendor = planner.provider === "openai" ? "OpenAI" : "Anthropic";
            throw new AppError(
              "bad_request:input",
              `No ${vendor} key is set: add one in Settings to build with this agent.`,
            );
          }
          return planApp({
            prompt,
            provider: planner.provider,
            model: planner.model,
            apiKey: credential.payload.apiKey,
            baseUrl: credential.payload.baseUrl,
            allowPrivateBaseUrl: isTrustedModelUrl(credentials, credential),
          });
        },
      };
    },
    runnerEventDeps() {
      return {
        db,
        key: credentials.key,
        providersFor: projectProviders,
        templateDir,
        templateCacheRoot,
        finish,
      };
    },
  };
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
