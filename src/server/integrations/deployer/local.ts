import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ProviderError } from "../provider-error";
import { TailText } from "../sandboxes/log-buffer";
import type { CommandResult, CommandSpec, Sandboxes, SandboxHandle } from "../sandboxes/port";
import { unpackTarball } from "../sandboxes/unpack-tarball";
import { errorLinesOf } from "./build-output";
import { boundedLogOf, secretsOfEnv } from "./deployment-log";
import { createLocalDeploymentLogs, type LiveDeploymentLog } from "./local-deployment-log";
import { stageCommit } from "./local-staging";
import type { Deployer, DeployInput, Deployment } from "./port";

// The local Deployer: a revision's files built and served (`npm run build`, then `npm run start` with PORT) in a local
// sandbox of their own, on a port of their own; with the verified build handed in (`prebuilt`), it is unpacked there
// and only started: `.next` names no absolute path `next start` reads, so it runs from any directory. State is one JSON
// file per deployment so `getDeployment` answers after a platform restart; the build itself runs in this process. A
// commit is deployed from its files, staged under `stagingRoot` until its build is over (see local-staging.ts).
// The output of `npm ci`, `npm run build` and `npm run start` goes to the deployment's log as it comes, with the
// deployment's env values redacted and bounded (local-deployment-log.ts), beside its record.

export type LocalDeployerOptions = {
  /** Where deployment records live, e.g. `<dataDir>/deployments`. */
  root: string;
  sandboxes: Sandboxes;
  /** Where deployCommit stages a commit's files: on the warm dependencies' filesystem. Default `<root>/staging`. */
  stagingRoot?: string;
  /**
   * The template's installed dependencies (a directory with its package-lock.json and node_modules), hard-linked
   * into a staged commit whose lockfile is the same; without it, such a build runs `npm ci`.
   */
  warmDependencies?: () => Promise<string>;
  /** Bound on `npm run build`. Default 10 minutes. */
  buildTimeoutMs?: number;
  /** Bound on the server answering after `npm run start`. Default 60 s. */
  startTimeoutMs?: number;
  pollIntervalMs?: number;
};

const recordSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(["queued", "building", "ready", "error", "canceled"]),
  url: z.string().nullable(),
  errorMessage: z.string().nullable(),
  errors: z.array(z.string()),
  sandboxId: z.string().nullable(),
  createdAt: z.number(),
  /** Where the served `.next` came from: the verified build handed in, or this deployment's own `npm run build`. */
  buildOutput: z.enum(["verified", "built"]).optional(),
});
type DeploymentRecord = z.infer<typeof recordSchema>;

const ID_PATTERN = /^ldp_[0-9a-f]{20}$/;
const DEPLOYMENT_LIFETIME_MS = 30 * 24 * 3_600_000;
/** What a failed command's error lines are read from: the tail of each stream. */
const COMMAND_OUTPUT_LIMIT = 1024 * 1024;

function toDeployment(record: DeploymentRecord): Deployment {
  return { id: record.id, state: record.state, url: record.url, errorMessage: record.errorMessage };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a command with its output going to the deployment's log as it comes; null when it ran past `timeoutMs` (it
 * is stopped then).
 */
async function runLogged(
  sandbox: SandboxHandle,
  command: CommandSpec,
  log: LiveDeploymentLog,
  timeoutMs: number,
): Promise<CommandResult | null> {
  log.note(`$ ${[command.cmd, ...(command.args ?? [])].join(" ")}`);
  const proc = await sandbox.runDetached(command);
  const stdout = new TailText(COMMAND_OUTPUT_LIMIT);
  const stderr = new TailText(COMMAND_OUTPUT_LIMIT);
  const reading = (async () => {
    for await (const chunk of proc.logs()) {
      log.append(chunk.stream, chunk.data);
      (chunk.stream === "stdout" ? stdout : stderr).append(chunk.data);
    }
  })().catch((error: unknown) => console.error("[kiln] local deploy: reading a command's output:", error));
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    proc.wait(),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (exited === null) {
    await proc.kill();
    log.note(`(stopped: still running after ${Math.round(timeoutMs / 1000)} s)`);
    return null;
  }
  await reading;
  return { exitCode: exited.exitCode, stdout: stdout.toString(), stderr: stderr.toString() };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000), redirect: "manual" });
    await response.body?.cancel();
    return response.status < 500;
  } catch (error) {
    // Not listening yet (connection refused, reset, or our own per-try timeout): keep waiting.
    if (error instanceof Error) return false;
    throw error;
  }
}

/**
 * Builds running in this process, by deployment id; a "building" record without one was interrupted by a restart.
 * Shared by every deployer made in the process: the platform makes one per request (a project's providers), so the
 * deployer that answers a status read is rarely the one building, and must not take the build for interrupted.
 */
const holder = globalThis as typeof globalThis & { __kilnLocalBuilds?: Map<string, Promise<void>> };
holder.__kilnLocalBuilds ??= new Map<string, Promise<void>>();
const buildsInThisProcess = holder.__kilnLocalBuilds;

export function createLocalDeployer(options: LocalDeployerOptions): Deployer {
  const buildTimeoutMs = options.buildTimeoutMs ?? 10 * 60_000;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const running = buildsInThisProcess;

  const fileOf = (id: string) => path.join(options.root, `${id}.json`);
  const logs = createLocalDeploymentLogs({ fileOf: (id) => path.join(options.root, `${id}.log.json`) });

  async function load(id: string): Promise<DeploymentRecord | null> {
    if (!ID_PATTERN.test(id)) return null;
    try {
      return recordSchema.parse(JSON.parse(await fs.readFile(fileOf(id), "utf8")));
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
      throw error;
    }
  }

  async function save(record: DeploymentRecord): Promise<void> {
    await fs.mkdir(options.root, { recursive: true });
    const temp = `${fileOf(record.id)}.${randomBytes(4).toString("hex")}.tmp`;
    await fs.writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    await fs.rename(temp, fileOf(record.id));
  }

  /** Applies a change unless the deployment was removed or canceled meanwhile. */
  async function update(id: string, change: Partial<DeploymentRecord>): Promise<boolean> {
    const current = await load(id);
    if (!current || current.state === "canceled") return false;
    await save({ ...current, ...change });
    return true;
  }

  async function fail(
    id: string,
    message: string,
    errors: string[],
    sandbox: SandboxHandle | null,
    log: LiveDeploymentLog,
  ) {
    // The message and error lines reach the operator and the revision's (public) events: no env value in them.
    const shown = log.redact(message);
    const lines = errors.map((line) => log.redact(line));
    await update(id, { state: "error", errorMessage: shown, errors: lines.length ? lines : [shown] });
    log.note(message);
    await log.end();
    await sandbox?.stop();
  }

  async function build(record: DeploymentRecord, input: DeployInput & { source: { kind: "directory" } }) {
    let sandbox: SandboxHandle | null = null;
    const log = logs.start(record.id, secretsOfEnv(input.env));
    // The verified build is read while the sandbox is made (settled either way: a failed read is thrown below).
    const prebuiltRead = (input.prebuilt?.() ?? Promise.resolve(null)).then(
      (data) => ({ data }),
      (error: unknown) => ({ error }),
    );
    try {
      sandbox = await options.sandboxes.create({
        name: `deploy-${record.id}`,
        source: { kind: "directory", path: input.source.path },
        ports: [3000],
        env: input.env,
        timeoutMs: DEPLOYMENT_LIFETIME_MS,
        hostPaths: input.hostPaths,
        tcpEndpoints: input.tcpEndpoints,
      });
      if (!(await update(record.id, { sandboxId: sandbox.id }))) {
        await log.end();
        await sandbox.stop();
        return;
      }

      // A source that comes with a lockfile but without its dependencies installed gets them from the lockfile.
      const [lockfile, modules] = await Promise.all([
        sandbox.run({ cmd: "test", args: ["-f", "package-lock.json"] }),
        sandbox.run({ cmd: "test", args: ["-d", "node_modules"] }),
      ]);
      if (lockfile.exitCode === 0 && modules.exitCode !== 0) {
        const installed = await runLogged(
          sandbox,
          { cmd: "npm", args: ["ci", "--no-audit", "--no-fund", "--loglevel=error"], env: input.env },
          log,
          buildTimeoutMs,
        );
        if (installed === null) {
          return await fail(
            record.id,
            `Installing the dependencies took longer than ${Math.round(buildTimeoutMs / 1000)} s.`,
            [],
            sandbox,
            log,
          );
        }
        if (installed.exitCode !== 0) {
          const lines = errorLinesOf(`${installed.stdout}\n${installed.stderr}`);
          return await fail(
            record.id,
            `Installing the dependencies failed (exit code ${installed.exitCode}): ${lines.at(-1) ?? "npm ci"}`,
            lines,
            sandbox,
            log,
          );
        }
      }

      const read = await prebuiltRead;
      if ("error" in read) throw read.error;
      const prebuilt = read.data;
      if (prebuilt) {
        log.note("Serving the checkpoint's verified build (no second `npm run build`).");
        await unpackTarball(sandbox, prebuilt, "the verified build");
        if (!(await update(record.id, { buildOutput: "verified" }))) {
          await log.end();
          return await sandbox.stop();
        }
      } else {
        if (!(await update(record.id, { buildOutput: "built" }))) {
          await log.end();
          return await sandbox.stop();
        }
        const built = await runLogged(
          sandbox,
          { cmd: "npm", args: ["run", "build"], env: input.env },
          log,
          buildTimeoutMs,
        );
        if (built === null) {
          return await fail(
            record.id,
            `The build took longer than ${Math.round(buildTimeoutMs / 1000)} s.`,
            [],
            sandbox,
            log,
          );
        }
        if (built.exitCode !== 0) {
          const lines = errorLinesOf(`${built.stdout}\n${built.stderr}`);
          const reason = lines.at(-1) ?? `exit code ${built.exitCode}`;
          return await fail(
            record.id,
            `The build failed (exit code ${built.exitCode}): ${reason}`,
            lines,
            sandbox,
            log,
          );
        }
      }

      const port = sandbox.listenPort(3000);
      log.note("$ npm run start");
      const server = await sandbox.runDetached({
        cmd: "npm",
        args: ["run", "start"],
        env: { ...input.env, PORT: String(port), HOSTNAME: sandbox.listenHost, NODE_ENV: "production" },
      });
      let exited: number | null = null;
      void server.wait().then(({ exitCode }) => {
        exited = exitCode;
      });
      // The server's output goes to the log for as long as it runs (bounded); its log ends with it.
      const output = new TailText(COMMAND_OUTPUT_LIMIT);
      const serverOutput = (async () => {
        for await (const chunk of server.logs()) {
          log.append(chunk.stream, chunk.data);
          output.append(chunk.data);
        }
      })().catch((error: unknown) =>
        console.error(`[kiln] local deploy ${record.id}: reading its server:`, error),
      );
      const url = sandbox.url(3000);
      const deadline = Date.now() + startTimeoutMs;
      while (Date.now() < deadline && exited === null && !(await answers(url))) await sleep(pollIntervalMs);
      if (exited !== null || Date.now() >= deadline) {
        if (exited !== null) await serverOutput;
        const why =
          exited !== null ? `the server exited with code ${exited}` : "the server did not answer in time";
        return await fail(
          record.id,
          `The app built but ${why}.`,
          errorLinesOf(output.toString()),
          sandbox,
          log,
        );
      }
      if (await update(record.id, { state: "ready", url })) {
        log.note("Ready: the app answers.");
        void serverOutput.finally(() => log.end());
      } else {
        await log.end();
        await sandbox.stop();
      }
    } catch (error) {
      const message = error instanceof ProviderError ? error.message : "The deployment failed unexpectedly.";
      await fail(record.id, message, [], sandbox, log);
      if (!(error instanceof ProviderError)) throw error;
    }
  }

  async function refreshed(record: DeploymentRecord): Promise<DeploymentRecord> {
    if (record.state === "building" && !running.has(record.id)) {
      // The build may have ended between this read and the check: it writes its outcome before it leaves
      // `running`, so a record still "building" when read again was interrupted.
      const current = await load(record.id);
      if (current?.state !== "building") return current ? refreshed(current) : record;
      const interrupted = {
        ...current,
        state: "error" as const,
        errorMessage: "The build was interrupted by a platform restart: press Redeploy on the checkpoint.",
      };
      await save(interrupted);
      return interrupted;
    }
    if (record.state === "ready" && record.sandboxId) {
      const sandbox = await options.sandboxes.get(record.sandboxId);
      if (!sandbox || !(await sandbox.isAlive())) {
        const stopped = {
          ...record,
          state: "error" as const,
          url: null,
          errorMessage:
            "The app stopped (platform restart or timeout): press Redeploy on the checkpoint to start it again.",
        };
        await save(stopped);
        return stopped;
      }
    }
    return record;
  }

  /** Starts the build in the background; `afterBuild` runs once the build is over, whatever its outcome. */
  async function start(input: DeployInput, afterBuild?: () => Promise<void>): Promise<Deployment> {
    if (input.source.kind !== "directory") {
      throw new ProviderError(
        "local-deploy",
        "invalid",
        "The local deployer deploys a directory of files, not a git source.",
      );
    }
    const record: DeploymentRecord = {
      id: `ldp_${randomBytes(10).toString("hex")}`,
      name: input.name,
      state: "building",
      url: null,
      errorMessage: null,
      errors: [],
      sandboxId: null,
      createdAt: Date.now(),
    };
    // In `running` before its record exists, so no reader ever sees a "building" record that is not.
    let buildEnded: () => void = () => undefined;
    running.set(
      record.id,
      new Promise<void>((resolve) => {
        buildEnded = resolve;
      }),
    );
    const ended = () => {
      running.delete(record.id);
      buildEnded();
    };
    try {
      await save(record);
    } catch (error) {
      ended();
      throw error;
    }
    const source = input.source;
    // Never rejects: an unexpected failure is already recorded on the deployment and is logged here.
    void build(record, { ...input, source })
      .finally(() => afterBuild?.())
      .then(
        () => undefined,
        (error: unknown) => console.error(`[kiln] local deploy ${record.id}:`, error),
      )
      .finally(ended);
    return toDeployment(record);
  }

  async function remove(id: string): Promise<void> {
    const record = await load(id);
    if (!record) return;
    await save({ ...record, state: "canceled" });
    if (record.sandboxId) await (await options.sandboxes.get(record.sandboxId))?.stop();
    await running.get(id);
    const latest = await load(id);
    if (latest?.sandboxId && latest.sandboxId !== record.sandboxId)
      await (await options.sandboxes.get(latest.sandboxId))?.stop();
    await logs.remove(id);
    await fs.rm(fileOf(id), { force: true });
  }

  return {
    kind: "local",
    vendor: "local-deploy",

    deploy: (input) => start(input),

    async deployCommit({ commit, ...input }) {
      const dir = await stageCommit({
        commit,
        stagingRoot: options.stagingRoot ?? path.join(options.root, "staging"),
        warmDependencies: options.warmDependencies,
        label: input.name,
      });
      const removeStaged = () => fs.rm(dir, { recursive: true, force: true });
      try {
        return await start({ ...input, source: { kind: "directory", path: dir } }, removeStaged);
      } catch (error) {
        await removeStaged();
        throw error;
      }
    },

    async getDeployment(id) {
      const record = await load(id);
      return record ? toDeployment(await refreshed(record)) : null;
    },

    async waitForDeployment(id, waitOptions) {
      const deadline = Date.now() + (waitOptions?.timeoutMs ?? buildTimeoutMs + startTimeoutMs);
      for (;;) {
        const record = await load(id);
        if (!record) throw new ProviderError("local-deploy", "not_found", `No local deployment ${id}.`);
        const current = await refreshed(record);
        if (current.state !== "queued" && current.state !== "building") return toDeployment(current);
        if (Date.now() >= deadline) {
          throw new ProviderError(
            "local-deploy",
            "timeout",
            `Deployment ${id} was still building when the wait ended.`,
          );
        }
        await sleep(Math.min(pollIntervalMs, Math.max(0, deadline - Date.now())));
      }
    },

    async buildErrors(id) {
      const record = await load(id);
      if (!record) throw new ProviderError("local-deploy", "not_found", `No local deployment ${id}.`);
      return record.errors;
    },

    async deploymentLog(id, logOptions) {
      if (!(await load(id))) return null;
      const log = (await logs.read(id)) ?? { lines: [], truncated: false };
      // Redacted when written; `secrets` the caller knows of besides the deployment's env are taken out here too.
      if (!logOptions?.secrets?.length) return log;
      return { ...boundedLogOf(log.lines, logOptions.secrets), truncated: log.truncated };
    },

    remove,

    async retireReplaced(id) {
      await remove(id);
      return true;
    },

    // The stable host is the preview proxy's (`a-<label>`), which reads the published checkpoint from the database.
    async publish(id) {
      const record = await load(id);
      if (!record || (await refreshed(record)).state !== "ready") {
        throw new ProviderError("local-deploy", "not_found", `Local deployment ${id} is not serving.`);
      }
      return { url: null };
    },

    unpublish: async () => undefined,
  };
}
