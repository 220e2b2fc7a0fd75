import path from "node:path";
import { AgentConfigError } from "../agent-config-error";
import type { RunConfig, RunConfigInput } from "../agent-definition";
import { checkRunConfigInput, gatewayBase } from "../run-input";
import { tomlDocument } from "./toml";

export const defaultRunTokenEnvVar = "KILN_RUN_TOKEN";

/** `$CODEX_HOME`: Codex's config and its sessions live here. */
export function codexHome(home: string): string {
  return path.join(home, ".codex");
}

/**
 * `$CODEX_HOME/config.toml` for one run. Codex ignores OPENAI_BASE_URL and has no chat wire API any more: a
 * custom provider with the Responses wire API is the only way to point it at the gateway. It sends
 * `Authorization: Bearer $<env_key>`. Nothing is read from the platform's HOME, so Codex's own defaults never
 * apply.
 */
export function codexRunConfig(input: RunConfigInput & { runTokenEnvVar?: string }): RunConfig {
  checkRunConfigInput(input);
  const tokenVar = input.runTokenEnvVar ?? defaultRunTokenEnvVar;
  if (!/^[A-Z_][A-Z0-9_]*$/.test(tokenVar)) {
    throw new AgentConfigError(
      "Agent run config: runTokenEnvVar must be an upper-case environment variable name.",
    );
  }
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
    files: [{ path: path.join(codexHome(input.home), "config.toml"), content }],
    env: { HOME: input.home, CODEX_HOME: codexHome(input.home), [tokenVar]: input.runToken },
  };
}
