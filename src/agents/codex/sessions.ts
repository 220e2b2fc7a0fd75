import type { Dirent } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { AgentSessions } from "../agent-definition";
import { nonNegative, type TokenUsage, zeroUsage } from "../normalizer";
import { codexHome } from "./run-config";

/** Codex keeps one rollout file per thread under `$CODEX_HOME/sessions/` and finds a thread by id anywhere there. */
export const codexSessions: AgentSessions = {
  dir: (home) => path.join(codexHome(home), "sessions"),
  async restore({ store, sessionDir }) {
    await fs.mkdir(sessionDir, { recursive: true });
    await fs.cp(store, sessionDir, { recursive: true, force: true });
  },
  usageBaseline: codexUsageBaseline,
};

async function findFiles(dir: string, suffix: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR")) {
      return [];
    }
    throw error;
  }
  const found: string[] = [];
  for (const entry of entries) {
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
  return nonNegative(typeof value === "number" ? value : undefined);
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
