import type { AgentCommand, AgentCommandInput } from "../agent-definition";
import { checkCommandInput } from "../run-input";

/**
 * `claude -p`, headless, stream-json on stdout. Its permission prompts are off: the Kiln sandbox is the
 * isolation. It works in its process's cwd. `--` ends the options: a prompt that starts with "-" stays a prompt.
 */
export function claudeCommand(input: AgentCommandInput): AgentCommand {
  checkCommandInput(input);
  const { prompt, model, workdir, resumeSessionId } = input;
  const args = [
    "-p",
    "--output-format",
    "stream-json",
    // stream-json output requires --verbose.
    "--verbose",
    "--permission-mode",
    "bypassPermissions",
    "--model",
    model,
    ...(resumeSessionId ? ["--resume", resumeSessionId] : []),
    "--",
    prompt,
  ];
  return { cmd: input.binPath, args, cwd: workdir, stdin: "ignore" };
}
