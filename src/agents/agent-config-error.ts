/**
 * An agent run cannot be set up as asked: a bad run setting (a path, a model name, the gateway URL, the run token,
 * a session id) or a config value that cannot be written. What is wrong is in the message; no value that may be a
 * secret is.
 */
export class AgentConfigError extends Error {
  override readonly name = "AgentConfigError";
}
