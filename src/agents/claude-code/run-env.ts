import path from "node:path";
import type { RunConfig, RunConfigInput } from "../agent-definition";
import { checkRunConfigInput, gatewayBase } from "../run-input";

/** `$CLAUDE_CONFIG_DIR`: Claude Code's settings and its sessions live here. */
export function claudeConfigDir(home: string): string {
  return path.join(home, ".claude");
}

/**
 * Claude Code is configured by environment only. It POSTs `{ANTHROPIC_BASE_URL}/v1/messages?beta=true` with
 * `Authorization: Bearer $ANTHROPIC_AUTH_TOKEN`. Without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC it contacts
 * api.anthropic.com at start even with a custom base URL; the three DISABLE_* variables are what that switch
 * implies, set one by one so a CLI that reads only those still stays quiet.
 */
export function claudeRunEnv(input: RunConfigInput): Record<string, string> {
  checkRunConfigInput(input);
  return {
    HOME: input.home,
    CLAUDE_CONFIG_DIR: claudeConfigDir(input.home),
    ANTHROPIC_BASE_URL: gatewayBase(input.gatewayBaseUrl),
    ANTHROPIC_AUTH_TOKEN: input.runToken,
    // Side tasks (titles, command checks) use the run's own model: the gateway serves a run its model only.
    ANTHROPIC_SMALL_FAST_MODEL: input.model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: input.model,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    // The default is 10 retries with backoff growing to 40 s: minutes of silence when the gateway is down. Two
    // retries ride out a passing upstream error; anything longer becomes a failed turn with a reason.
    CLAUDE_CODE_MAX_RETRIES: "2",
    // Bypass permission modes are refused when running as root unless the CLI is told it is sandboxed; it is.
    IS_SANDBOX: "1",
  };
}

/** Claude Code needs no files: its whole run config is the environment. */
export function claudeRunConfig(input: RunConfigInput): RunConfig {
  return { files: [], env: claudeRunEnv(input) };
}
