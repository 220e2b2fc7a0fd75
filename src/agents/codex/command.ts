import type { AgentCommand, AgentCommandInput } from "../agent-definition";
import { checkCommandInput } from "../run-input";

/**
 * `codex exec`, headless, JSONL on stdout. Codex's own sandbox is off: the Kiln sandbox is the isolation, and
 * Codex's nested bubblewrap would need namespaces the local sandbox drops. `--` ends the options: a prompt that
 * starts with "-" stays a prompt.
 */
export function codexCommand(input: AgentCommandInput): AgentCommand {
  checkCommandInput(input);
  const { prompt, model, workdir, resumeSessionId } = input;
  // --strict-config: a config key this version does not know is an error, not silently ignored (an ignored
  // `[analytics]` would quietly turn telemetry back on after a version bump).
  const common = ["exec", "--json", "--strict-config", "--skip-git-repo-check", "-C", workdir];
  const resume = resumeSessionId ? ["resume", resumeSessionId] : [];
  const args = [
    ...common,
    ...resume,
    "-m",
    model,
    "--dangerously-bypass-approvals-and-sandbox",
    "--",
    prompt,
  ];
  return { cmd: input.binPath, args, cwd: workdir, stdin: "ignore" };
}
