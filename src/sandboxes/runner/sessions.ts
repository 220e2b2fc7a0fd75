import fs from "node:fs/promises";
import path from "node:path";
import type { AgentKind } from "../../server/toolchains/versions";
import { type TokenUsage, zeroUsage } from "./normalize";

/**
 * The agent's session files travel between runs through `<workdir>/.kiln/session/` (outside git, see git.ts):
 * the platform puts the previous run's there from blob storage before the runner starts, and saves what the
 * runner leaves there afterwards. Codex keeps them under `$CODEX_HOME/sessions/`, Claude Code under
 * `$CLAUDE_CONFIG_DIR/projects/<cwd with every non-alphanumeric as "-">/`. Claude Code 2.1 finds a session by id
 * in any project directory, earlier versions only in the current cwd's; sandboxes differ in their workdir path,
 * so restored sessions are put in the current cwd's directory, which both find.
 */

export const kilnDirName = ".kiln";

export function sessionStore(workdir: string): string {
  return path.join(workdir, kilnDirName, "session");
}

/** Where the agent keeps its sessions, from its run environment (CODEX_HOME / CLAUDE_CONFIG_DIR). */
export function agentSessionDir(
  agent: AgentKind,
  agentEnv: Record<string, string>,
  agentHome: string,
): string {
  if (agent === "codex") return path.join(agentEnv.CODEX_HOME ?? path.join(agentHome, ".codex"), "sessions");
  return path.join(agentEnv.CLAUDE_CONFIG_DIR ?? path.join(agentHome, ".claude"), "projects");
}

export function claudeProjectDirName(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, "-");
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}

/** Copies saved sessions into the agent's directory; returns how many top-level entries were restored. */
export async function restoreSessions(
  agent: AgentKind,
  sessionDir: string,
  workdir: string,
): Promise<number> {
  const store = sessionStore(workdir);
  if (!(await isDirectory(store))) return 0;
  const entries = await fs.readdir(store, { withFileTypes: true });
  if (agent === "codex") {
    await fs.mkdir(sessionDir, { recursive: true });
    await fs.cp(store, sessionDir, { recursive: true, force: true });
    return entries.length;
  }
  const target = path.join(sessionDir, claudeProjectDirName(workdir));
  await fs.mkdir(target, { recursive: true });
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    await fs.cp(path.join(store, entry.name), target, { recursive: true, force: true });
  }
  return entries.length;
}

/** Replaces the saved sessions with the agent's current ones (what the platform stores for the next run). */
export async function saveSessions(sessionDir: string, workdir: string): Promise<void> {
  const store = sessionStore(workdir);
  await fs.rm(store, { recursive: true, force: true });
  await fs.mkdir(store, { recursive: true });
  if (await isDirectory(sessionDir)) {
    await fs.cp(sessionDir, store, { recursive: true, dereference: false });
  }
}

async function findFiles(dir: string, suffix: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const found: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findFiles(full, suffix)));
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(full);
  }
  return found;
}

type TokenCount = { input_tokens?: unknown; cached_input_tokens?: unknown; output_tokens?: unknown };

function tokenCountOf(line: string): TokenCount | undefined {
  if (!line.includes('"token_count"')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof record !== "object" || record === null || !("payload" in record)) return undefined;
  const payload = record.payload;
  if (typeof payload !== "object" || payload === null || !("info" in payload)) return undefined;
  const info = payload.info;
  if (typeof info !== "object" || info === null || !("total_token_usage" in info)) return undefined;
  const total = info.total_token_usage;
  return typeof total === "object" && total !== null ? total : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * The token total a Codex thread had reached, from its rollout file (`token_count` events): Codex reports the
 * thread's running total per turn, so a resumed thread's first turn is measured from here.
 */
export async function codexUsageBaseline(sessionDir: string, threadId: string): Promise<TokenUsage> {
  const files = await findFiles(sessionDir, `${threadId}.jsonl`);
  let last: TokenCount | undefined;
  for (const file of files.sort()) {
    const lines = (await fs.readFile(file, "utf8")).split("\n");
    for (const line of lines) last = tokenCountOf(line) ?? last;
  }
  if (!last) return zeroUsage;
  return {
    inputTokens: count(last.input_tokens),
    outputTokens: count(last.output_tokens),
    cachedTokens: count(last.cached_input_tokens),
  };
}
