import { defineAgent } from "../agent-definition";
import { claudeCommand } from "./command";
import { createClaudeNormalizer } from "./normalizer";
import { claudeConfigDir, claudeRunConfig } from "./run-env";
import { claudeSessions } from "./sessions";

/** Anthropic's Claude Code CLI, talking to the gateway's Anthropic Messages protocol. */
export const claudeCodeAgent = defineAgent({
  kind: "claude-code",
  label: "Claude Code",
  pickerLabel: "Claude Code",
  vendor: "anthropic",
  defaultModel: "claude-sonnet-5",
  plannerModel: "claude-sonnet-5",
  toolchain: {
    package: "@anthropic-ai/claude-code",
    version: "2.1.329",
    bin: "claude",
    // Without it `bin/claude.exe` stays a stub that prints "claude native binary not installed": the script
    // hard-links the native binary from the optional dependency @anthropic-ai/claude-code-linux-x64 over it.
    postinstall: "node_modules/@anthropic-ai/claude-code/install.cjs",
  },
  versionCheckEnv: (home) => ({
    HOME: home,
    CLAUDE_CONFIG_DIR: claudeConfigDir(home),
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  }),
  command: claudeCommand,
  runConfig: claudeRunConfig,
  sessions: claudeSessions,
  createNormalizer: createClaudeNormalizer,
});
