import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Client, createClient } from "@libsql/client";
import { plannerFor } from "../../src/agents/models";
import { createOperator } from "../../src/server/auth/operators";
import { type CredentialContext, saveCredential } from "../../src/server/credentials/credential-store";
import type { CredentialInput } from "../../src/server/credentials/kinds";
import type { Database } from "../../src/server/db/connection";
import type { Revision } from "../../src/server/db/schema";
import { type EventBody, eventBodySchema } from "../../src/server/events/schema";
import { decryptBranchConnection } from "../../src/server/integrations/database-branches/branch-connection";
import type { Providers } from "../../src/server/integrations/registry";
import type { SandboxHandle } from "../../src/server/integrations/sandboxes/port";
import { verifyCredential } from "../../src/server/integrations/verify-credential";
import { type CreatedProject, createProject } from "../../src/server/operations/create-project";
import type { RunnerEventDeps } from "../../src/server/pipeline/advance-from-runner";
import type { FinishSettings } from "../../src/server/pipeline/finish-revision";
import { type PipelineDeps, runRevision } from "../../src/server/pipeline/run-revision";
import { planApp } from "../../src/server/planner/plan-app";
import { planForOperator } from "../../src/server/planner/plan-for-operator";
import { isTerminal } from "../../src/server/revisions/state-machine";
import { buildRunnerBundle } from "../../src/server/runner-bundle/build-runner";
import { ensureTemplateCache } from "../../src/server/templates/template-cache";
import { chromiumPath } from "../e2e/env";
import {
  combineScenarios,
  type ModelServer,
  type ModelServerOptions,
  type ScenarioInput,
  startModelServer,
} from "../fakes/model-server";
import { type DatabaseFactory, type TestDatabase, testDatabases } from "./databases";
import { localProviderChoices, localProvidersAt } from "./local-providers";
import {
  type PipelinePlatform,
  type PipelinePlatformOptions,
  startPipelinePlatform,
} from "./pipeline-platform";
import { TEMPLATE_DIR, templateCache } from "./template";
import { toolchainCacheRoot } from "./toolchains";

// Everything a whole-pipeline test needs, set up once per file: a data dir for the local adapters, a libSQL
// control-plane database, the scripted model server, an operator whose OpenAI and Anthropic keys point at it,
// the platform's gateway and webhook (tests/helpers/pipeline-platform.ts), and the PipelineDeps the platform
// would build (planner included: it talks to the vendor of the project's agent, as src/server/pipeline/platform.ts
// does). Revisions run for real: the agent CLIs, bubblewrap sandboxes, `next build`, the preview.

export { combineScenarios };

type ScenarioPart = string | ScenarioInput;

export type PipelineHarnessOptions = {
  /** The control-plane database's dialect. Default: libSQL. */
  database?: DatabaseFactory;
  /** The model server's script: scenarios merged in order (see combineScenarios). */
  scenarios: ScenarioPart[];
  /** The operator's upstream keys (the model server accepts exactly these). */
  openaiKey?: string;
  anthropicKey?: string;
  /** More operator credentials (a GitHub token…): stored encrypted like any other. */
  extraCredentials?: CredentialInput[];
  /** The platform secret key. Default: 32 random bytes. */
  key?: Buffer;
  /** Where the data dir is created. Default: the OS temp dir (which local sandboxes replace, so hide it). */
  dataDirParent?: string;
  /** The platform's checkout, hidden from local sandboxes. Default: this checkout. */
  platformRoot?: string;
  platform?: Pick<PipelinePlatformOptions, "gateway" | "platformSecrets">;
  /** Bound on the preview health check after `runner.preview`. */
  previewTimeoutMs?: number;
  /**
   * Deploy each finished checkpoint with the local deployer (`next start` of the runner's verified build).
   * Default false.
   */
  deploy?: boolean;
  /**
   * Where the installed template cache lives (holding `<name>-<version>` and its `.ready` marker). Default: the
   * machine's shared test cache; a test that attacks the cache passes a private copy.
   */
  templateCacheRoot?: string;
  /** Where the agents' CLIs are installed. Default: the machine's shared test cache (tests/helpers/toolchains.ts). */
  toolchainsRoot?: string;
  /**
   * The model server as an OpenAI-compatible one (e.g. `apis: ["chat"]`: Chat Completions only), and the
   * operator's `openai-compatible` credential pointing at it (its key is the operator's OpenAI key).
   */
  compatible?: Pick<ModelServerOptions, "apis" | "chat" | "models"> & { price?: string };
  /** Directories local repositories may be imported from (KILN_IMPORT_ROOTS). */
  importRoots?: string[];
  /** A GitHub (a wire fake) the providers' importer reads with this token. */
  github?: { token: string; apiUrl: string };
};

/** A stored event as its schema reads it, with where it sits in the revision's order. */
export type RevisionEvent = EventBody & { id: number; seq: number; sandboxId: string | null };

/** The statuses a revision went through, from its `revision.status` events. */
export function statusesOf(events: RevisionEvent[]): string[] {
  return events.flatMap((event) => (event.type === "revision.status" ? [event.payload.status] : []));
}

export type PipelineHarness = {
  db: Database;
  dataDir: string;
  key: Buffer;
  /** The operator's upstream keys (what the gateway sends upstream; never meant to reach a sandbox). */
  openaiKey: string;
  anthropicKey: string;
  userId: string;
  credentials: CredentialContext;
  models: ModelServer;
  platform: PipelinePlatform;
  providers: Providers;
  deps: PipelineDeps;
  /** What the webhook's advancement runs with (a second platform in a test takes the same). */
  runnerDeps: RunnerEventDeps;
  /** Answers later model requests from these scenarios (merged in order). */
  switchScenarios(parts: ScenarioPart[]): void;
  /** A new project (and its first, queued revision) for the operator; optional project overrides. */
  createProject(
    prompt: string,
    options?: {
      agent?: "codex" | "claude-code";
      budgetTokens?: number;
      provider?: "openai" | "anthropic" | "openai-compatible";
      model?: string;
    },
  ): Promise<CreatedProject>;
  /** The platform side of a revision (plan, provision, start the runner); returns when the runner started. */
  run(revisionId: string): Promise<void>;
  revision(revisionId: string): Promise<Revision>;
  /** Polls until `predicate` holds (or the revision is terminal), bounded. */
  waitFor(
    revisionId: string,
    predicate: (revision: Revision) => boolean,
    timeoutMs?: number,
  ): Promise<Revision>;
  /** Polls until the revision is terminal, then waits for the advancement in flight to settle. */
  waitForEnd(revisionId: string, timeoutMs?: number): Promise<Revision>;
  /** Polls until the revision holds an event of `type`, bounded; returns its events then. */
  waitForEvent(revisionId: string, type: EventBody["type"], timeoutMs?: number): Promise<RevisionEvent[]>;
  /** The revision's stored events in read order (seq, then cursor), payloads parsed. */
  events(revisionId: string): Promise<RevisionEvent[]>;
  /** The revision's sandbox handle, or null when it has none or it is gone. */
  sandboxOf(revision: Revision): Promise<SandboxHandle | null>;
  /** Stops every sandbox the database knows of. */
  stopSandboxes(): Promise<void>;
  /** A libSQL client on a revision's own database branch, through the connection the platform stored for it. */
  onBranch<T>(revisionId: string, work: (client: Client) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPipelineHarness(options: PipelineHarnessOptions): Promise<PipelineHarness> {
  const factory = options.database ?? testDatabases[0];
  if (!factory) throw new Error("no test database");
  const openaiKey = options.openaiKey ?? `sk-operator-openai-${randomBytes(8).toString("hex")}`;
  const anthropicKey = options.anthropicKey ?? `sk-ant-operator-${randomBytes(8).toString("hex")}`;
  const key = options.key ?? randomBytes(32);
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const close = async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        // Every resource still gets its cleanup; the failures are reported together.
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, "the pipeline harness did not clean up");
  };
  try {
    const t: TestDatabase = await factory.open();
    cleanups.push(() => t.drop());
    const dataDir = fs.mkdtempSync(path.join(options.dataDirParent ?? os.tmpdir(), "kiln-pipeline-"));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const models = await startModelServer({
      scenario: combineScenarios("pipeline", options.scenarios),
      auth: { bearer: openaiKey, apiKey: anthropicKey },
      ...(options.compatible
        ? { apis: options.compatible.apis, chat: options.compatible.chat, models: options.compatible.models }
        : {}),
    });
    cleanups.push(() => models.close());
    const credentials: CredentialContext = {
      key,
      endpoints: {
        githubApiUrl: "http://127.0.0.1:1",
        vercelApiUrl: "http://127.0.0.1:1",
        tidbCloudApiUrl: "http://127.0.0.1:1",
        openaiBaseUrl: models.openaiBaseUrl,
        anthropicBaseUrl: models.url,
        // The operators' keys below point at the scripted model on 127.0.0.1, as a self-hoster's Ollama would.
        allowPrivateModelUrls: true,
      },
      platformDefaults: {},
      verify: (input) => verifyCredential(input, { endpoints: credentials.endpoints }),
    };
    const userId = (
      await createOperator(
        t.db,
        { email: "ops@example.com", password: "correct horse battery" },
        { bcryptCost: 4 },
      )
    ).id;
    const operatorCredentials: CredentialInput[] = [
      { kind: "openai", apiKey: openaiKey, baseUrl: models.openaiBaseUrl },
      { kind: "anthropic", apiKey: anthropicKey, baseUrl: models.url },
      ...(options.compatible
        ? [
            {
              kind: "openai-compatible" as const,
              baseUrl: models.openaiBaseUrl,
              apiKey: openaiKey,
              price: options.compatible.price,
            },
          ]
        : []),
      ...(options.extraCredentials ?? []),
    ];
    for (const credential of operatorCredentials) await saveCredential(t.db, credentials, userId, credential);
    const cacheRoot = options.templateCacheRoot ?? path.dirname((await templateCache()).dir);
    const providers = localProvidersAt(
      dataDir,
      options.platformRoot,
      {
        warmDependencies: async () =>
          (await ensureTemplateCache({ templateDir: TEMPLATE_DIR, cacheRoot })).dir,
        importRoots: options.importRoots,
        githubApiUrl: options.github?.apiUrl,
      },
      options.github ? { github: { token: options.github.token } } : {},
    );
    const finish: FinishSettings = {
      autoDeploy: options.deploy ?? false,
      chromiumPath: chromiumPath(),
    };
    const runnerDeps: RunnerEventDeps = {
      db: t.db,
      key,
      providersFor: async () => providers,
      templateDir: TEMPLATE_DIR,
      templateCacheRoot: cacheRoot,
      finish,
      previewTimeoutMs: options.previewTimeoutMs,
    };
    let pipelineDeps: PipelineDeps | undefined;
    const platform = await startPipelinePlatform({
      db: t.db,
      credentials,
      runner: runnerDeps,
      // A revision whose sandbox died with its server is carried on by whichever server applies its events next.
      pipeline: () => {
        if (!pipelineDeps) throw new Error("The pipeline is not wired yet.");
        return pipelineDeps;
      },
      ...options.platform,
    });
    cleanups.push(() => platform.close());
    cleanups.push(() => platform.idle());
    const runner = buildRunnerBundle(path.join(dataDir, "runner"));
    const deps: PipelineDeps = {
      db: t.db,
      key,
      providers,
      templateDir: TEMPLATE_DIR,
      templateCacheRoot: cacheRoot,
      toolchainsRoot: options.toolchainsRoot ?? toolchainCacheRoot(),
      finish,
      sandboxTimeoutMs: 900_000,
      publicUrl: platform.url,
      runTokenTtlMs: 900_000,
      runnerBundle: () => runner,
      plan: (input) => {
        // An OpenAI-compatible project plans (and is metered) as the platform does it.
        if (input.provider === "openai-compatible") return planForOperator(t.db, credentials, input);
        const { agent, prompt } = input;
        const planner = plannerFor(agent);
        const openai = planner.provider === "openai";
        return planApp({
          prompt,
          provider: planner.provider,
          model: planner.model,
          apiKey: openai ? openaiKey : anthropicKey,
          baseUrl: openai ? models.openaiBaseUrl : models.url,
          allowPrivateBaseUrl: true,
          startingPoint: input.startingPoint,
        });
      },
    };
    pipelineDeps = deps;

    const revision = (revisionId: string) =>
      t.db.selectFrom("revision").selectAll().where("id", "=", revisionId).executeTakeFirstOrThrow();

    const waitFor = async (
      revisionId: string,
      predicate: (revision: Revision) => boolean,
      timeoutMs = 300_000,
    ): Promise<Revision> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await revision(revisionId);
        if (predicate(current) || isTerminal(current.status)) return current;
        if (Date.now() > deadline) {
          throw new Error(`revision ${revisionId} still ${current.status} after ${timeoutMs} ms`);
        }
        await sleep(250);
      }
    };

    const events = async (revisionId: string): Promise<RevisionEvent[]> => {
      const rows = await t.db
        .selectFrom("event")
        .select(["id", "seq", "type", "sandbox_id", "payload"])
        .where("revision_id", "=", revisionId)
        .orderBy("seq")
        .orderBy("id")
        .execute();
      return rows.map((row) => {
        const body = eventBodySchema.parse({ type: row.type, payload: JSON.parse(row.payload) });
        return { ...body, id: Number(row.id), seq: Number(row.seq), sandboxId: row.sandbox_id };
      });
    };

    const sandboxOf = async (row: Revision): Promise<SandboxHandle | null> => {
      if (!row.sandbox_id) return null;
      const sandbox = await t.db
        .selectFrom("sandbox")
        .select("external_id")
        .where("id", "=", row.sandbox_id)
        .executeTakeFirst();
      return sandbox?.external_id ? providers.sandboxes.get(sandbox.external_id) : null;
    };

    const stopSandboxes = async () => {
      const rows = await t.db.selectFrom("sandbox").select("external_id").execute();
      for (const row of rows) {
        if (row.external_id) await (await providers.sandboxes.get(row.external_id))?.stop();
      }
      // Local deployments run in sandboxes of their own, known to the deployer only.
      const deployed = await t.db
        .selectFrom("revision")
        .select("deployment_id")
        .where("deployment_id", "is not", null)
        .execute();
      for (const row of deployed) if (row.deployment_id) await providers.deployer.remove(row.deployment_id);
    };
    // Before the database and the data dir go: the sandboxes' processes hold files in both.
    cleanups.push(stopSandboxes);

    const onBranch = async <T>(revisionId: string, work: (client: Client) => Promise<T>): Promise<T> => {
      const row = await revision(revisionId);
      const branch = await t.db
        .selectFrom("db_branch")
        .selectAll()
        .where("id", "=", row.db_branch_id ?? "")
        .executeTakeFirstOrThrow();
      const connection = decryptBranchConnection(key, branch.id, branch.connection_ciphertext ?? "");
      const client = createClient({ url: connection.databaseUrl });
      try {
        return await work(client);
      } finally {
        client.close();
      }
    };

    return {
      db: t.db,
      dataDir,
      key,
      openaiKey,
      anthropicKey,
      userId,
      credentials,
      models,
      platform,
      providers,
      deps,
      runnerDeps,
      switchScenarios: (parts) => models.useScenario(combineScenarios("pipeline", parts)),
      async createProject(prompt, projectOptions = {}) {
        const created = await createProject(
          t.db,
          userId,
          {
            prompt,
            agent: projectOptions.agent ?? "codex",
            provider: projectOptions.provider,
            model: projectOptions.model,
          },
          localProviderChoices,
        );
        if (projectOptions.budgetTokens !== undefined) {
          await t.db
            .updateTable("project")
            .set({ budget_tokens: projectOptions.budgetTokens })
            .where("id", "=", created.project.id)
            .execute();
        }
        return created;
      },
      run: (revisionId) => runRevision(deps, revisionId),
      revision,
      waitFor,
      async waitForEnd(revisionId, timeoutMs = 480_000) {
        const ended = await waitFor(revisionId, (current) => isTerminal(current.status), timeoutMs);
        if (!isTerminal(ended.status)) throw new Error(`revision ${revisionId} is still ${ended.status}`);
        await platform.idle();
        return revision(revisionId);
      },
      async waitForEvent(revisionId, type, timeoutMs = 120_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const stored = await events(revisionId);
          if (stored.some((event) => event.type === type)) return stored;
          if (Date.now() > deadline)
            throw new Error(`no ${type} event for ${revisionId} after ${timeoutMs} ms`);
          await sleep(250);
        }
      },
      events,
      sandboxOf,
      stopSandboxes,
      onBranch,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
