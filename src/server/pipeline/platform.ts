import "server-only";
import path from "node:path";
import { env } from "@/env";
import { getCredentialContext, getDb } from "@/server/context";
import { resolveCredential } from "@/server/credentials/credential-store";
import type { Project } from "@/server/db/schema";
import { AppError } from "@/server/errors";
import { localLayout, type Providers, providersFor } from "@/server/integrations/registry";
import { planApp } from "@/server/planner/plan-app";
import { providerChoicesOf } from "@/server/projects/project-resources";
import { buildRunnerBundle } from "@/server/runner-bundle/build-runner";
import type { RunnerEventDeps } from "./advance-from-runner";
import { plannerFor } from "./models";
import type { PipelineDeps } from "./run-revision";

// The pipeline wired to this server: its environment, database, credentials and data dir. Everything it calls is
// injectable for tests; only this module reads the environment.

const settings = {
  dataDir: env.dataDir,
  platformRoot: process.cwd(),
  githubApiUrl: env.GITHUB_API_URL,
  vercelApiUrl: env.VERCEL_API_URL,
  tidbCloudApiUrl: env.TIDB_CLOUD_API_URL,
  branchesMysqlUrl: env.KILN_BRANCHES_MYSQL_URL,
  blobToken: env.BLOB_READ_WRITE_TOKEN,
};

async function projectProviders(project: Project): Promise<Providers> {
  const db = await getDb();
  const ctx = getCredentialContext();
  const [github, vercel, tidbcloud] = await Promise.all([
    resolveCredential(db, ctx, project.user_id, "github"),
    resolveCredential(db, ctx, project.user_id, "vercel"),
    resolveCredential(db, ctx, project.user_id, "tidbcloud"),
  ]);
  return providersFor(providerChoicesOf(project), settings, {
    github: github?.payload,
    vercel: vercel?.payload,
    tidbcloud: tidbcloud?.payload,
  });
}

let runnerBundle: Promise<{ file: string }> | undefined;

export async function pipelineDeps(project: Project): Promise<PipelineDeps> {
  const db = await getDb();
  const layout = localLayout(env.dataDir);
  return {
    db,
    key: getCredentialContext().key,
    providers: await projectProviders(project),
    templateDir: path.resolve("templates/nextjs-app"),
    templateCacheRoot: path.join(env.dataDir, "templates"),
    toolchainsRoot: path.join(env.dataDir, "toolchains"),
    sandboxTimeoutMs: 2 * 3_600_000,
    publicUrl: env.KILN_PUBLIC_URL,
    runTokenTtlMs: 3 * 3_600_000,
    runnerBundle: () => {
      runnerBundle ??= buildRunnerBundle(path.join(layout.sandboxes, "..", "runner"));
      return runnerBundle;
    },
    async plan({ userId, agent, prompt }) {
      const planner = plannerFor[agent];
      const credential = await resolveCredential(db, getCredentialContext(), userId, planner.provider);
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
      });
    },
  };
}

export async function runnerEventDeps(): Promise<RunnerEventDeps> {
  return { db: await getDb(), providersFor: projectProviders };
}
