import type { AgentNormalizer, NormalizerOptions, TokenUsage } from "./normalizer";

/**
 * Everything Kiln knows about one coding-agent CLI, in one object per agent (src/agents/<agent>/definition.ts),
 * listed in the registry. The platform (toolchain install, gateway, planner, pipeline) and the in-sandbox runner
 * both read it, so it stays pure: no database, no secrets, no `server-only`, only the Node built-ins the runner
 * already uses.
 */

/** The model vendor an agent's CLI talks to: which gateway protocol serves its runs, and who plans its projects. */
export type ModelVendor = "openai" | "anthropic";

/**
 * The agent's CLI, pinned to an exact npm version: a run never picks up a new release by surprise, and a bump
 * installs side by side with the old one (see `ensureToolchain`). Check for releases with `npm view <package>
 * version`.
 */
export type ToolchainPin = {
  package: string;
  version: string;
  /** The executable the package links into `node_modules/.bin`. */
  bin: string;
  /**
   * The package's own install script, relative to the install directory. npm runs with `--ignore-scripts` (no
   * dependency may run code at install time); a script listed here is one that was read and is needed, and it
   * runs on its own afterwards.
   */
  postinstall?: string;
};

export type AgentCommandInput = {
  /** `Toolchain.binPath` (the same path inside a local sandbox, through the read-only bind). */
  binPath: string;
  prompt: string;
  model: string;
  /** Absolute working directory of the run (the app's checkout inside the sandbox). */
  workdir: string;
  /** The agent's own session id from the previous run of this task: this run continues that conversation. */
  resumeSessionId?: string;
};

export type AgentCommand = {
  cmd: string;
  /** Passed as an array: the prompt is one element, never joined into a shell line. */
  args: string[];
  /** Absolute: the directory the CLI runs in. */
  cwd: string;
  /**
   * A piped stdin may be read as part of the prompt (Codex appends it), so stdin is /dev/null (spawn's "ignore");
   * the Sandboxes port runs commands without stdin, which is that.
   */
  stdin: "ignore";
};

export type RunFile = { path: string; content: string };
export type RunConfig = { files: RunFile[]; env: Record<string, string> };

export type RunConfigInput = {
  /** e.g. `https://kiln.example.com/gateway`; no query, no credentials. */
  gatewayBaseUrl: string;
  model: string;
  /** The short-lived run token the gateway accepts for this run (never an operator's upstream key). */
  runToken: string;
  /** Absolute HOME of the agent inside the sandbox; its config directories go under it. */
  home: string;
};

/**
 * Where the CLI keeps its resumable sessions. The runner carries them between runs in a store of its own (see
 * src/sandboxes/runner/sessions.ts): it copies `dir(home)` there after every turn, and asks `restore` to put a
 * saved store back where the CLI will find it.
 */
export type AgentSessions = {
  dir(home: string): string;
  /** Puts the saved sessions in `store` back under `sessionDir`, where the CLI run in `workdir` finds them. */
  restore(input: { store: string; sessionDir: string; workdir: string }): Promise<void>;
  /**
   * For a CLI that reports running token totals (see `AgentNormalizer.usageTotal`): the total the session had
   * reached, read from its saved files, so a resumed session's first turn is measured from there.
   */
  usageBaseline?(sessionDir: string, sessionId: string): Promise<TokenUsage>;
};

export type AgentDefinition<Kind extends string = string> = {
  /** Stored on projects and revisions, and names the toolchain's cache directory: never change one. */
  kind: Kind;
  /** What operators read in lists, progress messages and errors ("Codex"). */
  label: string;
  /** The choice in the new-project form ("OpenAI Codex"). */
  pickerLabel: string;
  vendor: ModelVendor;
  /** The model a run uses when neither its revision nor its project names one. */
  defaultModel: string;
  /** The model that plans the agent's projects (with the same vendor, so one key serves both). */
  plannerModel: string;
  toolchain: ToolchainPin;
  /**
   * The environment of `<bin> --version` after an install: the CLI's config and state kept under `home` (a
   * scratch directory dropped afterwards), nothing sent home.
   */
  versionCheckEnv(home: string): Record<string, string>;
  /**
   * The headless command line of one turn, fresh or resuming `resumeSessionId`. Refuses (AgentConfigError) what
   * `checkCommandInput` refuses: the sandbox is the isolation, so the CLI's own approvals and sandbox are off.
   */
  command(input: AgentCommandInput): AgentCommand;
  /**
   * Files for the agent's HOME and the environment of its command, pointing the CLI at Kiln's model gateway (the
   * only endpoint it is told about) with everything that would call home switched off. Refuses what
   * `checkRunConfigInput` refuses.
   */
  runConfig(input: RunConfigInput): RunConfig;
  sessions: AgentSessions;
  /** Turns the CLI's JSONL output into Kiln events, one line at a time. */
  createNormalizer(options: NormalizerOptions): AgentNormalizer;
};

/** Keeps `kind` as its literal type, which the registry makes `AgentKind` from. */
export function defineAgent<const Kind extends string>(
  definition: AgentDefinition<Kind>,
): AgentDefinition<Kind> {
  return definition;
}
