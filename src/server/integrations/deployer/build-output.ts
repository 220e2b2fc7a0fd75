// Colours and cursor moves from build tools: noise to an operator and to the agent.
const ansiEscape = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, "g");

export function stripAnsi(text: string): string {
  return text.replace(ansiEscape, "");
}

const MAX_ERROR_LINES = 50;

/** The lines of build output an operator (or the agent) needs: error lines if any, else the tail. */
export function errorLinesOf(output: string): string[] {
  const lines = stripAnsi(output)
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "");
  const errors = lines.filter((line) => /error|failed|ERR!|✖|cannot|not found/i.test(line));
  return (errors.length > 0 ? errors : lines.slice(-20)).slice(-MAX_ERROR_LINES);
}
