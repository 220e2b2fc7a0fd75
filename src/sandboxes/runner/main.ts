import fs from "node:fs/promises";
import { capShort } from "../../agents/event-text";
import type { StepName } from "../../server/events/schema";
import { clearRunnerStatus, reachPlatformMs, watchPlatformReach, writeRunnerStatus } from "./platform-reach";
import { createEventPoster, type EventPoster } from "./poster";
import { childrenExited, stopAllChildren } from "./process";
import { type RunOutcome, runRun } from "./run";
import { runnerStatusFile } from "./runner-status";
import { describeSpecIssues, type RunSpec, reportingSpecSchema, runSpecSchema } from "./spec";

/**
 * The runner's entry point inside the sandbox: `node runner.mjs <run-spec.json>` (bundled by
 * src/server/runner-bundle/build-runner.ts). Exit code 0 when the run finished (after the preview it started has
 * stopped: the runner is its parent and stays alive with it), 1 when it failed. Events are always flushed first.
 */

/** What children inherit from the runner's environment; everything else they get is set explicitly. */
const inheritedEnv = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TERM",
  "TMPDIR",
  "TZ",
  // The local sandbox finds all of its processes by this marker when it stops.
  "KILN_SANDBOX_ID",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

function baseEnvFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of inheritedEnv) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

function log(message: string): void {
  process.stderr.write(`[kiln-runner] ${message}\n`);
}

async function readSpecFile(specPath: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(specPath, "utf8"));
  } finally {
    // It holds the run token and the webhook secret: gone before the agent (same user) starts.
    await fs.rm(specPath, { force: true });
  }
}

async function reportBrokenSpec(raw: unknown, reason: string): Promise<void> {
  const reporting = reportingSpecSchema.safeParse(raw);
  if (!reporting.success) return;
  const poster = createEventPoster({
    runId: reporting.data.runId,
    firstSeq: reporting.data.seqBase,
    webhookUrl: reporting.data.webhookUrl,
    secret: reporting.data.webhookSecret,
    onWarning: log,
  });
  poster.post({ type: "runner.failed", payload: { step: "provision", reason } });
  await poster.close();
}

/** Once per run: the platform reads this file to learn that none of the run's events reached it, and why. */
function unreachableRecorder(spec: RunSpec): (error: string) => Promise<void> {
  let recorded: Promise<void> | undefined;
  return (error) => {
    recorded ??= (async () => {
      log(
        `no event reached the platform at ${spec.webhookUrl} (${error}); the run cannot report, so it stops`,
      );
      try {
        await writeRunnerStatus(spec.workdir, {
          state: "unreachable",
          url: spec.webhookUrl,
          error: capShort(error),
          at: Date.now(),
        });
      } catch (writeError) {
        if (!(writeError instanceof Error)) throw writeError;
        log(`could not write ${runnerStatusFile}: ${writeError.message}`);
      }
    })();
    return recorded;
  };
}

function onStopSignal(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(signal, () => handler(signal));
}

async function main(argv: string[]): Promise<number> {
  const specPath = argv[2];
  if (!specPath) {
    log("usage: node runner.mjs <run-spec.json>");
    return 1;
  }
  let raw: unknown;
  try {
    raw = await readSpecFile(specPath);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    log(`cannot read the run spec ${specPath}: ${error.message}`);
    return 1;
  }
  const parsed = runSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = capShort(`invalid run spec: ${describeSpecIssues(parsed.error)}`);
    log(reason);
    await reportBrokenSpec(raw, reason);
    return 1;
  }
  const spec = parsed.data;
  const poster: EventPoster = createEventPoster({
    runId: spec.runId,
    firstSeq: spec.seqBase,
    webhookUrl: spec.webhookUrl,
    secret: spec.webhookSecret,
    onWarning: log,
  });
  const state: { step: StepName } = { step: "generate" };
  let exitCode: number | undefined;
  onStopSignal((signal) => {
    stopAllChildren();
    // After the run was reported (the preview is being served), stopping is the normal end.
    if (exitCode !== undefined) process.exit(exitCode);
    poster.post({
      type: "runner.failed",
      payload: { step: state.step, reason: `the runner was stopped (${signal})` },
    });
    void poster.close().finally(() => process.exit(1));
  });

  try {
    await clearRunnerStatus(spec.workdir);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    // The platform believes the file only while no event of this run has arrived: a stale one misleads nobody.
    log(`could not remove an earlier ${runnerStatusFile}: ${error.message}`);
  }
  const recordUnreachable = unreachableRecorder(spec);
  const stopWatching = watchPlatformReach(poster, reachPlatformMs(spec.limits), (error) => {
    void (async () => {
      await recordUnreachable(error);
      // The agent's work could never be delivered: stop it rather than let it spend the run's budget for nothing.
      stopAllChildren();
      await childrenExited(6_000);
      process.exit(1);
    })();
  });

  poster.startHeartbeat();
  let outcome: RunOutcome;
  try {
    outcome = await runRun({ spec, poster, baseEnv: baseEnvFrom(process.env), log, state });
  } catch (error) {
    // A runner bug must still end the run with a reason, not leave it to the silence reconciler.
    const message = error instanceof Error ? error.message : String(error);
    log(`runner error: ${error instanceof Error ? (error.stack ?? message) : message}`);
    poster.post({
      type: "runner.failed",
      payload: { step: state.step, reason: capShort(`runner error: ${message}`) },
    });
    outcome = { ok: false };
  }
  exitCode = outcome.ok ? 0 : 1;
  await poster.close();
  stopWatching();
  // Everything was refused or dropped before the watch's time (a server that is not Kiln answering 404, say).
  if (poster.stats.sent === 0 && poster.lastFailure !== undefined) {
    await recordUnreachable(poster.lastFailure.why);
    return 1;
  }
  log(
    `run ${outcome.ok ? "finished" : "failed"}; events sent ${poster.stats.sent}, dropped ${poster.stats.dropped}`,
  );
  if (!outcome.ok) return exitCode;
  if (outcome.preview) {
    log("serving the preview");
    const code = await outcome.preview.exited;
    log(`the preview stopped (exit code ${code})`);
  }
  return exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`runner crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
