import { defineAgent } from "../agent-definition";
import { codexCommand } from "./command";
import { createCodexNormalizer } from "./normalizer";
import { codexHome, codexRunConfig } from "./run-config";
import { codexSessions } from "./sessions";

/** OpenAI's Codex CLI, talking to the gateway's OpenAI Responses protocol. */
export const codexAgent = defineAgent({
  kind: "codex",
  label: "Codex",
  pickerLabel: "OpenAI Codex",
  vendor: "openai",
  // Codex only offers its apply_patch tool for model slugs it knows (gpt-5.5 is one; gpt-5.1-codex is not, in
  // Codex 0.169).
  defaultModel: "gpt-5.5",
  plannerModel: "gpt-5.5",
  toolchain: {
    package: "@openai/codex",
    version: "0.169.0",
    bin: "codex",
    // The native binary comes as the optional dependency @openai/codex-linux-x64 (an npm alias of a
    // platform-tagged version); `bin/codex.js` finds it at run time. Nothing to run at install time.
  },
  versionCheckEnv: (home) => ({ HOME: home, CODEX_HOME: codexHome(home) }),
  command: codexCommand,
  runConfig: codexRunConfig,
  sessions: codexSessions,
  createNormalizer: createCodexNormalizer,
});
