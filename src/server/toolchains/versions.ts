/**
 * The coding-agent CLIs Kiln runs inside sandboxes, pinned to exact versions: a run never picks up a new release
 * by surprise, and a version bump here installs side by side with the old one (see `ensureToolchain`).
 * Check for new releases with `npm view <package> version`.
 */

export type AgentKind = "codex" | "claude-code";

export type ToolchainSpec = {
  agent: AgentKind;
  /** What operators read in progress messages and errors. */
  label: string;
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

export const toolchains: Readonly<Record<AgentKind, ToolchainSpec>> = {
  codex: {
    agent: "codex",
    label: "Codex",
    package: "@openai/codex",
    version: "0.169.0",
    bin: "codex",
    // The native binary comes as the optional dependency @openai/codex-linux-x64 (an npm alias of a
    // platform-tagged version); `bin/codex.js` finds it at run time. Nothing to run at install time.
  },
  "claude-code": {
    agent: "claude-code",
    label: "Claude Code",
    package: "@anthropic-ai/claude-code",
    version: "2.1.329",
    bin: "claude",
    // Without it `bin/claude.exe` stays a stub that prints "claude native binary not installed": the script
    // hard-links the native binary from the optional dependency @anthropic-ai/claude-code-linux-x64 over it.
    postinstall: "node_modules/@anthropic-ai/claude-code/install.cjs",
  },
};

export const agentKinds: readonly AgentKind[] = ["codex", "claude-code"];

export function isAgentKind(value: string): value is AgentKind {
  return (agentKinds as readonly string[]).includes(value);
}
