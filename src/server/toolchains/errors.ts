/**
 * A platform-side failure to prepare or configure an agent toolchain (npm, the cache directory, a bad run
 * setting). Not a ProviderError: no vendor API is involved, and what an operator does about it is in the message.
 */
export class ToolchainError extends Error {
  override readonly name = "ToolchainError";
}
