import path from "node:path";
import { ToolchainError } from "./errors";
import { tomlDocument } from "./toml";
import { hasControlCharacter } from "./validate";
import type { AgentKind } from "./versions";

/**
 * Per-run agent configuration: files for the sandbox's HOME and the environment of the agent command. Pure, so the
 * platform and the in-sandbox runner build the same thing. The model gateway is the only endpoint either CLI is
 * told about; everything that would otherwise call home (update checks, telemetry, plugin and connector
 * catalogs, error reporting) is switched off, and the CLIs' own defaults never apply because nothing is read
 * from the platform's HOME.
 *
 * The gateway serves both protocols under one base URL: `{gatewayBaseUrl}/v1/responses` (OpenAI Responses, for
 * Codex) and `{gatewayBaseUrl}/v1/messages` (Anthropic Messages, for Claude Code).
 */

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

export const defaultRunTokenEnvVar = "KILN_RUN_TOKEN";

/** The gateway base URL, validated and without a trailing slash. */
export function gatewayBase(gatewayBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(gatewayBaseUrl);
  } catch (error) {
    throw new ToolchainError(
      `Agent run config: gateway URL ${JSON.stringify(gatewayBaseUrl)} is not a URL.`,
      {
        cause: error,
      },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ToolchainError("Agent run config: the gateway URL must be http:// or https://.");
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ToolchainError(
      "Agent run config: the gateway URL must not carry credentials, a query or a fragment (the run token goes in a header).",
    );
  }
  return url.toString().replace(/\/+$/, "");
}

function checkInput(input: RunConfigInput): void {
  if (!path.isAbsolute(input.home))
    throw new ToolchainError("Agent run config: home must be an absolute path.");
  if (!input.model.trim() || hasControlCharacter(input.model)) {
    throw new ToolchainError("Agent run config: the model name is empty or has control characters.");
  }
  if (!input.runToken || /\s/.test(input.runToken) || hasControlCharacter(input.runToken)) {
    throw new ToolchainError(
      "Agent run config: the run token is empty or has whitespace or control characters.",
    );
  }
}

/**
 * `$CODEX_HOME/config.toml` for one run. Codex ignores OPENAI_BASE_URL and has no chat wire API any more: a
 * custom provider with the Responses wire API is the only way to point it at the gateway. It sends
 * `Authorization: Bearer $<env_key>`.
 */
export function codexRunConfig(input: RunConfigInput & { runTokenEnvVar?: string }): RunConfig {
  checkInput(input);
  const tokenVar = input.runTokenEnvVar ?? defaultRunTokenEnvVar;
  if (!/^[A-Z_][A-Z0-9_]*$/.test(tokenVar)) {
    throw new ToolchainError(
      "Agent run config: runTokenEnvVar must be an upper-case environment variable name.",
    );
  }
  const codexHome = path.join(input.home, ".codex");
  const content = tomlDocument(
    {
      model: input.model,
      model_provider: "kiln",
      // TUI only today, but it must never start fetching releases from GitHub inside a sandbox.
      check_for_update_on_startup: false,
      // A hosted tool: the upstream would browse on the agent's behalf, outside what the gateway meters.
      web_search: "disabled",
    },
    [
      {
        name: ["model_providers", "kiln"],
        values: {
          name: "Kiln model gateway",
          base_url: `${gatewayBase(input.gatewayBaseUrl)}/v1`,
          env_key: tokenVar,
          wire_api: "responses",
          // Small and bounded: the gateway passes upstream failures through as they are; the runner reports a failed turn.
          request_max_retries: 2,
          stream_max_retries: 2,
        },
      },
      {
        // plugins: fetches the plugin catalog from chatgpt.com and github.com at start.
        // unbounded_connection_retries: on, a gateway that is down makes Codex retry forever.
        name: ["features"],
        values: { plugins: false, unbounded_connection_retries: false },
      },
      {
        // Commands the model runs inherit the agent's environment, run token included, unless excluded here.
        name: ["shell_environment_policy"],
        values: { exclude: [tokenVar] },
      },
      // Usage events to ab.chatgpt.com.
      { name: ["analytics"], values: { enabled: false } },
      { name: ["feedback"], values: { enabled: false } },
      { name: ["otel"], values: { exporter: "none" } },
    ],
  );
  return {
    files: [{ path: path.join(codexHome, "config.toml"), content }],
    env: { HOME: input.home, CODEX_HOME: codexHome, [tokenVar]: input.runToken },
  };
}

/**
 * Claude Code is configured by environment only. It POSTs `{ANTHROPIC_BASE_URL}/v1/messages?beta=true` with
 * `Authorization: Bearer $ANTHROPIC_AUTH_TOKEN`. Without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC it contacts
 * api.anthropic.com at start even with a custom base URL; the three DISABLE_* variables are what that switch
 * implies, set one by one so a CLI that reads only those still stays quiet.
 */
export function claudeRunEnv(input: RunConfigInput): Record<string, string> {
  checkInput(input);
  return {
    HOME: input.home,
    CLAUDE_CONFIG_DIR: path.join(input.home, ".claude"),
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

/** Files and environment for `agent`'s run (Claude Code needs no files). */
export function agentRunConfig(agent: AgentKind, input: RunConfigInput): RunConfig {
  return agent === "codex" ? codexRunConfig(input) : { files: [], env: claudeRunEnv(input) };
}
