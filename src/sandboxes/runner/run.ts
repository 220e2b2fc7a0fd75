import { readFile } from "node:fs/promises";
import path from "node:path";
import { capShort } from "../../agents/event-text";
import type { TokenUsage } from "../../agents/normalizer";
import { agentDefinition } from "../../agents/registry";
import type { StepName } from "../../server/events/schema";
import { type AgentTurn, runAgentTurn, writeAgentConfig } from "./agent";
import { packedBuildOrNone } from "./build-output";
import { envNamesNote, writeEnvExample } from "./env-example";
import { commitBase, commitWork } from "./git";
import { StepOutput } from "./output";
import type { EventPoster } from "./poster";
import { DevServer, type Preview, PreviewError } from "./preview";
import { describeExit, runProcess } from "./process";
import { restoreSessions, saveSessions } from "./sessions";
import type { RunSpec } from "./spec";

/**
 * One run inside the sandbox: the app's dev server starts first (it boots and compiles while the agent works), then
 * the agent's turn, migrations, the preview (the dev server's first 200 after the agent's edits, reported before
 * the build), the build beside it (with one fix turn for the agent if migrations or the build fail; the dev server
 * hot-reloads the fix), the commit and bundle. Every step is reported as `runner.step` events; the run ends with
 * exactly one `runner.finished` (only after the build passed and the commit was made) or `runner.failed`.
 */

export type RunnerContext = {
  spec: RunSpec;
  poster: EventPoster;
  /** The minimal environment every child starts from (PATH, HOME, locale, the sandbox marker). */
  baseEnv: Record<string, string>;
  log: (message: string) => void;
  /** The step in progress, for a runner stopped from outside. */
  state: { step: StepName };
};

export type RunOutcome = { ok: true; preview?: Preview } | { ok: false };

const defaults = { agentTurnMs: 40 * 60_000, stepMs: 15 * 60_000, previewReadyMs: 3 * 60_000 };

type Check = { step: "migrate" | "verify"; label: string; args: string[] };
type CheckFailure = { check: Check; reason: string; output: string };

const checks: Record<"migrate" | "build", Check> = {
  migrate: {
    step: "migrate",
    label: "The database migration (`npm run migrate up`)",
    args: ["run", "migrate", "--", "up"],
  },
  build: { step: "verify", label: "The build (`npm run build`)", args: ["run", "build"] },
};

function limits(spec: RunSpec) {
  return {
    agentTurnMs: spec.limits.agentTurnMs ?? defaults.agentTurnMs,
    stepMs: spec.limits.stepMs ?? defaults.stepMs,
    previewReadyMs: spec.limits.previewReadyMs ?? defaults.previewReadyMs,
  };
}

/**
 * The app's own commands (migrate, build, dev): the project's variables and the database URL, no model or webhook
 * credential. Kiln's own settings come last, so no project variable can change them.
 */
function appEnv(context: RunnerContext): Record<string, string> {
  return {
    ...context.spec.appEnv,
    ...context.baseEnv,
    DATABASE_URL: context.spec.databaseUrl,
    NEXT_TELEMETRY_DISABLED: "1",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are what this removes.
const ansi = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Output fit for a prompt: no colour codes, no NUL or other control characters (newlines and tabs kept). */
function plainText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes.
  return text.replace(ansi, "").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
}

/**
 * Takes the app's secret values out of text for the agent (a failing migration's output may print one): the agent
 * and the model behind it never get them. Events are redacted by the platform at ingestion.
 */
export function secretRemover(spec: Pick<RunSpec, "appEnv" | "appSecretNames">): (text: string) => string {
  const values = spec.appSecretNames
    .map((name) => spec.appEnv[name] ?? "")
    .filter((value) => value.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, value) => out.split(value).join("[redacted]"), text);
}

export function fixPrompt(failure: CheckFailure, redact: (text: string) => string = (text) => text): string {
  return [
    `${failure.check.label} failed with this error:`,
    "",
    "```",
    redact(plainText(failure.output).trim()).slice(-8_000),
    "```",
    "",
    "Fix it, then run the build again to check that it passes.",
  ].join("\n");
}

export async function runRun(context: RunnerContext): Promise<RunOutcome> {
  const { spec, poster } = context;
  const bounds = limits(spec);
  const step: StepReporter = (name, status, attempt, reason) => {
    context.state.step = name;
    poster.post({
      type: "runner.step",
      payload: { step: name, status, attempt, ...(reason ? { reason: capShort(reason) } : {}) },
    });
  };
  let devServer: DevServer | undefined;
  const fail = (name: StepName, reason: string): RunOutcome => {
    // A failed run serves nothing: its preview was never a checkpoint.
    devServer?.stop();
    poster.post({ type: "runner.failed", payload: { step: name, reason: capShort(reason) } });
    return { ok: false };
  };
  const gitContext = { workdir: spec.workdir, env: context.baseEnv };
  const { sessions } = agentDefinition(spec.agent);
  const envNames = Object.keys(spec.appEnv).sort();

  step("generate", "started", 1);
  let agentEnv: Record<string, string>;
  let sessionDir: string;
  try {
    const config = await writeAgentConfig(spec);
    agentEnv = { ...context.baseEnv, ...config.env, DATABASE_URL: spec.databaseUrl };
    sessionDir = sessions.dir(spec.agentHome);
    await restoreSessions(sessions, sessionDir, spec.workdir);
    if (spec.steps.commit) await commitBase(gitContext);
    // After the base commit: the block is the runner's, not part of the tree the agent starts from.
    await writeEnvExample(spec.workdir, envNames);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    step("generate", "failed", 1, error.message);
    return fail("generate", `preparing the run failed: ${error.message}`);
  }

  // The dev server's output: kept (a tail) while nobody waits for it, posted as the preview step's output while
  // that step runs, so the log shows its boot and compile without streaming the whole run's requests.
  let devOutput: StepOutput | undefined;
  let devTail = "";
  if (spec.steps.preview && spec.previewPort !== undefined) {
    devServer = new DevServer({
      workdir: spec.workdir,
      env: appEnv(context),
      port: spec.previewPort,
      host: spec.previewHost,
      onOutput: (stream, text) => {
        devTail = (devTail + text).slice(-8_000);
        devOutput?.write(stream, text);
      },
    });
    devServer.start(bounds.previewReadyMs);
  }
  let previewReported = false;
  let previewFailure: string | undefined;
  /** The preview step: once, after the first passing migration, before the build. */
  const showPreview = async (attempt: number): Promise<void> => {
    if (!devServer || previewReported) return;
    step("preview", "started", attempt);
    const output = new StepOutput(poster, "preview", { maxChars: 64_000 });
    if (devTail) output.write("stdout", devTail);
    devOutput = output;
    try {
      await devServer.ready(bounds.previewReadyMs);
    } catch (error) {
      if (!(error instanceof PreviewError)) throw error;
      previewFailure = withLastLines(error.message, output.tail());
      step("preview", "failed", attempt, previewFailure);
      return;
    } finally {
      devOutput = undefined;
      output.flush();
    }
    previewFailure = undefined;
    previewReported = true;
    poster.post({ type: "runner.preview", payload: { port: devServer.port } });
    step("preview", "finished", attempt);
  };

  const agentTurn = async (prompt: string, resume: string | undefined, baseline: TokenUsage | undefined) => {
    const turn = await runAgentTurn({
      spec,
      prompt,
      resumeSessionId: resume,
      usageBaseline: baseline,
      env: agentEnv,
      poster,
      timeoutMs: bounds.agentTurnMs,
    });
    await saveSessions(sessionDir, spec.workdir).catch((error: unknown) => {
      if (!(error instanceof Error)) throw error;
      // The run can still succeed; only the next revision loses its conversation history.
      context.log(`could not save the agent's session files: ${error.message}`);
    });
    return turn;
  };

  const baseline =
    sessions.usageBaseline && spec.resumeSessionId
      ? await sessions.usageBaseline(sessionDir, spec.resumeSessionId).catch((error: unknown) => {
          if (!(error instanceof Error)) throw error;
          // Only the usage shown for this run is affected (it would include earlier runs').
          context.log(`could not read the resumed thread's token total: ${error.message}`);
          return undefined;
        })
      : undefined;
  let turn: AgentTurn = await agentTurn(
    `${spec.prompt}${envNamesNote(envNames)}`,
    spec.resumeSessionId,
    baseline,
  );
  if (!turn.ok) {
    step("generate", "failed", 1, turn.reason);
    return fail("generate", turn.reason ?? "the agent failed");
  }
  // The agent's edits compile while migrations run.
  devServer?.lookNow();
  step("generate", "finished", 1);

  for (let attempt = 1; ; attempt++) {
    const failure = await runChecks(context, attempt, bounds.stepMs, step, showPreview);
    if (!failure) break;
    if (attempt >= 2) return fail(failure.check.step, failure.reason);
    step("generate", "started", attempt + 1);
    const prompt = fixPrompt(failure, secretRemover(spec));
    turn = turn.sessionId
      ? await agentTurn(prompt, turn.sessionId, turn.usageTotal)
      : await agentTurn(`${spec.prompt}\n\n${prompt}`, undefined, undefined);
    if (!turn.ok) {
      step("generate", "failed", attempt + 1, turn.reason);
      return fail("generate", turn.reason ?? "the agent failed");
    }
    step("generate", "finished", attempt + 1);
  }

  // The build passed but the page never answered: no fix turn for that (as when the preview came last).
  if (previewFailure) return fail("preview", previewFailure);

  if (spec.steps.commit) {
    step("commit", "started", 1);
    try {
      // The tree committed is the one the build step verified: its output is handed back with it, packed while the
      // commit is made (the pack goes to `.kiln/`, which git never sees; git never touches `.next`).
      const [committed, buildFile] = await Promise.all([
        commitWork(gitContext, spec.prompt),
        spec.steps.build ? packedBuildOrNone(gitContext, context.log) : undefined,
      ]);
      poster.post({
        type: "runner.committed",
        payload: {
          bundleFile: committed.bundleFile,
          message: capShort(spec.prompt),
          treeSha: committed.treeSha,
          ...(buildFile ? { buildFile } : {}),
        },
      });
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      step("commit", "failed", 1, error.message);
      return fail("commit", error.message);
    }
    step("commit", "finished", 1);
  }

  let preview: Preview | undefined;
  if (devServer) {
    // What finishes is what the preview serves: the page still answers after the fix turn and the build (and the
    // server is restarted once if it died meanwhile, on the same port the platform recorded).
    try {
      preview = await devServer.ready(bounds.previewReadyMs);
    } catch (error) {
      if (!(error instanceof PreviewError)) throw error;
      const reason = withLastLines(error.message, devTail);
      step("preview", "failed", 1, reason);
      return fail("preview", reason);
    }
  }

  poster.post({ type: "runner.finished", payload: {} });
  return { ok: true, preview };
}

/** A failure's reason with the last few lines of the output that explains it. */
function withLastLines(reason: string, output: string): string {
  const lastLines = plainText(output).trim().split("\n").slice(-3).join("\n");
  return lastLines ? `${reason}: ${lastLines}` : reason;
}

type StepReporter = (
  name: StepName,
  status: "started" | "finished" | "failed",
  attempt: number,
  reason?: string,
) => void;

/**
 * Migrations, then `beforeBuild` (the preview: the app is migrated, its build not yet known), then the build
 * (whichever the spec enables); the first failure, or undefined when both pass.
 */
async function runChecks(
  context: RunnerContext,
  attempt: number,
  timeoutMs: number,
  step: StepReporter,
  beforeBuild: (attempt: number) => Promise<void>,
): Promise<CheckFailure | undefined> {
  const { steps } = context.spec;
  let migrateFailure: CheckFailure | undefined;
  if (steps.migrate) {
    // `migrate` is optional for an imported app (docs/import.md): without the script there is nothing to run.
    if (await hasScript(context.spec.workdir, "migrate")) {
      migrateFailure = await runCheck(context, checks.migrate, attempt, timeoutMs, step);
    } else {
      step(checks.migrate.step, "started", attempt);
      const output = new StepOutput(context.poster, checks.migrate.step);
      output.write("stdout", 'package.json has no "migrate" script: no migrations to run.\n');
      output.flush();
      step(checks.migrate.step, "finished", attempt);
    }
  }
  if (migrateFailure) return migrateFailure;
  await beforeBuild(attempt);
  return steps.build ? runCheck(context, checks.build, attempt, timeoutMs, step) : undefined;
}

/** Whether the app's package.json defines `name` as a script (false when it cannot be read). */
async function hasScript(workdir: string, name: string): Promise<boolean> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(workdir, "package.json"), "utf8"));
    if (typeof parsed !== "object" || parsed === null || !("scripts" in parsed)) return false;
    const scripts: unknown = parsed.scripts;
    return typeof scripts === "object" && scripts !== null && name in scripts;
  } catch (error) {
    if (error instanceof SyntaxError || (error instanceof Error && "code" in error)) return false;
    throw error;
  }
}

/** One check as a step: its output posted, its failure (with the output's tail) returned. */
async function runCheck(
  context: RunnerContext,
  check: Check,
  attempt: number,
  timeoutMs: number,
  step: StepReporter,
): Promise<CheckFailure | undefined> {
  step(check.step, "started", attempt);
  const output = new StepOutput(context.poster, check.step);
  const exit = await runProcess("npm", check.args, {
    cwd: context.spec.workdir,
    env: appEnv(context),
    timeoutMs,
    onStdout: (text) => output.write("stdout", text),
    onStderr: (text) => output.write("stderr", text),
  });
  output.flush();
  if (exit.code === 0 && !exit.timedOut) {
    step(check.step, "finished", attempt);
    return undefined;
  }
  const lastLines = output.tail().trim().split("\n").slice(-3).join("\n");
  const reason = `npm ${check.args.join(" ")} failed (${describeExit(exit)})${lastLines ? `: ${lastLines}` : ""}`;
  step(check.step, "failed", attempt, reason);
  return { check, reason, output: output.tail() || describeExit(exit) };
}
