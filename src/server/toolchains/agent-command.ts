import path from "node:path";
import { ToolchainError } from "./errors";
import { hasControlCharacter } from "./validate";
import type { AgentKind } from "./versions";

export type AgentCommandInput = {
  agent: AgentKind;
  /** `Toolchain.binPath` (the same path inside a local sandbox, through the read-only bind). */
  binPath: string;
  prompt: string;
  model: string;
  /** Absolute working directory of the run (the app's checkout inside the sandbox). */
  workdir: string;
  /** Codex thread id / Claude Code session id from the previous run of this task. */
  resumeSessionId?: string;
};

export type AgentCommand = {
  cmd: string;
  /** Passed as an array: the prompt is one element, never joined into a shell line. */
  args: string[];
  /** Absolute; Claude Code works in its process's cwd, Codex is also told with `-C`. */
  cwd: string;
  /**
   * Codex appends a piped stdin to the prompt, so stdin must be /dev/null (spawn's "ignore"); the Sandboxes port
   * runs commands without stdin, which is that.
   */
  stdin: "ignore";
};

const sessionIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

function check(input: AgentCommandInput): void {
  if (!path.isAbsolute(input.binPath) || !path.isAbsolute(input.workdir)) {
    throw new ToolchainError("Agent command: binPath and workdir must be absolute paths.");
  }
  if (!input.prompt.trim()) throw new ToolchainError("Agent command: the prompt is empty.");
  if (input.prompt.includes("\u0000"))
    throw new ToolchainError("Agent command: the prompt contains a NUL byte.");
  if (
    !input.model.trim() ||
    input.model.startsWith("-") ||
    /\s/.test(input.model) ||
    hasControlCharacter(input.model)
  ) {
    throw new ToolchainError(`Agent command: ${JSON.stringify(input.model)} is not a model name.`);
  }
  if (input.resumeSessionId !== undefined && !sessionIdPattern.test(input.resumeSessionId)) {
    // It comes back from stored agent output: it must not be able to pose as a flag.
    throw new ToolchainError("Agent command: the session id to resume is not a valid id.");
  }
}

/**
 * The headless command line of one agent run. The sandbox is the isolation, so the CLIs' own approval prompts
 * and sandboxes are off (Codex's nested bubblewrap would also need namespaces the local sandbox drops).
 * `--` ends the options: a prompt that starts with "-" stays a prompt.
 */
export function agentCommand(input: AgentCommandInput): AgentCommand {
  check(input);
  const { prompt, model, workdir, resumeSessionId } = input;
  if (input.agent === "codex") {
    // --strict-config: a config key this version does not know is an error, not silently ignored (an ignored
    // `[analytics]` would quietly turn telemetry back on after a version bump).
    const common = ["exec", "--json", "--strict-config", "--skip-git-repo-check", "-C", workdir];
    const resume = resumeSessionId ? ["resume", resumeSessionId] : [];
    const args = [
      ...common,
      ...resume,
      "-m",
      model,
      "--dangerously-bypass-approvals-and-sandbox",
      "--",
      prompt,
    ];
    return { cmd: input.binPath, args, cwd: workdir, stdin: "ignore" };
  }
  const args = [
    "-p",
    "--output-format",
    "stream-json",
    // stream-json output requires --verbose.
    "--verbose",
    "--permission-mode",
    "bypassPermissions",
    "--model",
    model,
    ...(resumeSessionId ? ["--resume", resumeSessionId] : []),
    "--",
    prompt,
  ];
  return { cmd: input.binPath, args, cwd: workdir, stdin: "ignore" };
}
