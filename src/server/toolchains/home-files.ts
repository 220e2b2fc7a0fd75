import path from "node:path";
import type { RunFile } from "@/agents/agent-definition";
import type { CommandSpec } from "@/server/integrations/sandboxes/port";
import { ToolchainError } from "./errors";

// The agent's HOME is outside the working directory (its config and session files must not end up in the app's
// git history or build), and `SandboxHandle.writeFiles` writes only inside the working directory. So the files
// are written by a command inside the sandbox, which can reach its own HOME on Vercel and local alike. Paths
// and contents travel as separate arguments to a fixed script: nothing is ever parsed by the shell.
const script = [
  "set -e",
  "umask 077",
  'while [ "$#" -gt 1 ]; do',
  '  mkdir -p -- "$(dirname -- "$1")"',
  '  printf \'%s\' "$2" > "$1"',
  "  shift 2",
  "done",
].join("\n");

/** Linux caps one argument at 128 KiB; run config files are a few hundred bytes. */
const maxContentBytes = 64 * 1024;

/** A command that writes `files` (absolute paths inside the sandbox) from inside the sandbox. */
export function writeHomeFilesCommand(files: RunFile[]): CommandSpec {
  const args = ["-c", script, "kiln-write-files"];
  for (const file of files) {
    if (!path.isAbsolute(file.path))
      throw new ToolchainError(`Run file ${file.path} must be an absolute path.`);
    if (Buffer.byteLength(file.content) > maxContentBytes || file.content.includes("\u0000")) {
      throw new ToolchainError(`Run file ${file.path} is too large or binary to pass as an argument.`);
    }
    args.push(file.path, file.content);
  }
  return { cmd: "sh", args };
}
