import path from "node:path";
import { AgentConfigError } from "./agent-config-error";
import type { AgentCommandInput, RunConfigInput } from "./agent-definition";

// The checks every agent's command and run config make before building anything: the values come from the run
// spec (model names, session ids from stored agent output), and none may pose as a flag or break an argument list.

/** C0 controls and DEL: never legitimate in a model name, token or prompt argument (tabs and newlines aside). */
function hasControlCharacter(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const sessionIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function checkCommandInput(input: AgentCommandInput): void {
  if (!path.isAbsolute(input.binPath) || !path.isAbsolute(input.workdir)) {
    throw new AgentConfigError("Agent command: binPath and workdir must be absolute paths.");
  }
  if (!input.prompt.trim()) throw new AgentConfigError("Agent command: the prompt is empty.");
  if (input.prompt.includes("\u0000"))
    throw new AgentConfigError("Agent command: the prompt contains a NUL byte.");
  if (
    !input.model.trim() ||
    input.model.startsWith("-") ||
    /\s/.test(input.model) ||
    hasControlCharacter(input.model)
  ) {
    throw new AgentConfigError(`Agent command: ${JSON.stringify(input.model)} is not a model name.`);
  }
  if (input.resumeSessionId !== undefined && !sessionIdPattern.test(input.resumeSessionId)) {
    // It comes back from stored agent output: it must not be able to pose as a flag.
    throw new AgentConfigError("Agent command: the session id to resume is not a valid id.");
  }
}

export function checkRunConfigInput(input: RunConfigInput): void {
  if (!path.isAbsolute(input.home))
    throw new AgentConfigError("Agent run config: home must be an absolute path.");
  if (!input.model.trim() || hasControlCharacter(input.model)) {
    throw new AgentConfigError("Agent run config: the model name is empty or has control characters.");
  }
  if (!input.runToken || /\s/.test(input.runToken) || hasControlCharacter(input.runToken)) {
    throw new AgentConfigError(
      "Agent run config: the run token is empty or has whitespace or control characters.",
    );
  }
}

/**
 * The gateway base URL, validated and without a trailing slash. The gateway serves every vendor's protocol under
 * it: `{base}/v1/responses` (OpenAI Responses) and `{base}/v1/messages` (Anthropic Messages).
 */
export function gatewayBase(gatewayBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(gatewayBaseUrl);
  } catch (error) {
    throw new AgentConfigError(
      `Agent run config: gateway URL ${JSON.stringify(gatewayBaseUrl)} is not a URL.`,
      {
        cause: error,
      },
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AgentConfigError("Agent run config: the gateway URL must be http:// or https://.");
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new AgentConfigError(
      "Agent run config: the gateway URL must not carry credentials, a query or a fragment (the run token goes in a header).",
    );
  }
  return url.toString().replace(/\/+$/, "");
}
