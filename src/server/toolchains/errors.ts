/**
 * A platform-side failure to prepare an agent toolchain (npm, the cache directory, the run files written into a
 * sandbox); a bad run setting is the agent's own AgentConfigError. Not a ProviderError: no vendor API is
 * involved, and what an operator does about it is in the message.
 */
export class ToolchainError extends Error {
  override readonly name = "ToolchainError";
}
