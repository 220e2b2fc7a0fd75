import fs from "node:fs/promises";
import path from "node:path";
import type { AgentSessions } from "../../agents/agent-definition";

/**
 * The agent's session files travel between runs through `<workdir>/.kiln/session/` (outside git, see git.ts):
 * the platform puts the previous run's there from blob storage before the runner starts, and saves what the
 * runner leaves there afterwards. Where the agent itself keeps them, and how they go back, is its definition's
 * (src/agents/<agent>/sessions.ts).
 */

export const kilnDirName = ".kiln";

export function sessionStore(workdir: string): string {
  return path.join(workdir, kilnDirName, "session");
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return false;
    throw error;
  }
}

/** Copies saved sessions, if there are any, into the agent's session directory. */
export async function restoreSessions(
  sessions: AgentSessions,
  sessionDir: string,
  workdir: string,
): Promise<void> {
  const store = sessionStore(workdir);
  if (!(await isDirectory(store))) return;
  await sessions.restore({ store, sessionDir, workdir });
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
