import fs from "node:fs/promises";
import path from "node:path";

/**
 * The app's environment variable names, for the coding agent: a block Kiln keeps in the app's `.env.example` (names
 * only, never a value; the agent's own environment holds none of them). Lines outside the block are the app's and
 * are kept as they are; the block is rewritten on every run and removed when the project has no variables (with
 * the file, when nothing else is in it). The template ignores `.env*` in git; an app that tracks `.env.example` commits
 * the names, which is what the file is for.
 */

export const ENV_EXAMPLE_FILE = ".env.example";
const BEGIN = "# >>> Kiln: this project's environment variables (set in Kiln's Settings tab; names only) >>>";
const END = "# <<< Kiln <<<";

/** The file's text with Kiln's block set to `names` (or taken out when there are none). */
export function withKilnBlock(current: string, names: readonly string[]): string {
  const lines = current === "" ? [] : current.replace(/\n$/, "").split("\n");
  const begin = lines.indexOf(BEGIN);
  const end = begin >= 0 ? lines.indexOf(END, begin) : -1;
  const own = begin >= 0 && end >= 0 ? [...lines.slice(0, begin), ...lines.slice(end + 1)] : lines;
  while (own.length > 0 && own[own.length - 1]?.trim() === "") own.pop();
  if (names.length === 0) return own.length > 0 ? `${own.join("\n")}\n` : "";
  const block = [
    BEGIN,
    "# The app reads these from process.env at run time (dev server, migrations, build, deployments). Their values",
    "# are not here and not in your environment: never hard-code, print or log them.",
    ...names.map((name) => `${name}=`),
    END,
  ];
  return `${[...own, ...(own.length > 0 ? [""] : []), ...block].join("\n")}\n`;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return "";
    throw error;
  }
}

/** Writes Kiln's block into `<workdir>/.env.example` (a symlink there is replaced, never followed). */
export async function writeEnvExample(workdir: string, names: readonly string[]): Promise<void> {
  const file = path.join(workdir, ENV_EXAMPLE_FILE);
  const stat = await fs.lstat(file).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
  const current = stat?.isFile() ? await readOrEmpty(file) : "";
  const next = withKilnBlock(current, names);
  if (next === current && stat?.isFile()) return;
  if (stat && !stat.isFile()) await fs.rm(file, { recursive: true, force: true });
  if (next === "") {
    await fs.rm(file, { force: true });
    return;
  }
  await fs.writeFile(file, next);
}

/** A line for the agent's prompt naming the variables (their values never go to the agent). */
export function envNamesNote(names: readonly string[]): string {
  return names.length === 0
    ? ""
    : `\n\nThe app's environment has these variables, set by the operator (read them from process.env; their values are not available to you, and ${ENV_EXAMPLE_FILE} lists them): ${names.join(", ")}.`;
}
