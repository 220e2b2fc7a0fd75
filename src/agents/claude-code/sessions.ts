import fs from "node:fs/promises";
import path from "node:path";
import type { AgentSessions } from "../agent-definition";
import { claudeConfigDir } from "./run-env";

/** Claude Code's directory for the sessions started in `cwd`: the path with every non-alphanumeric as "-". */
export function claudeProjectDirName(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, "-");
}

/**
 * Claude Code keeps sessions under `$CLAUDE_CONFIG_DIR/projects/<cwd's directory>/`. Version 2.1 finds a session
 * by id in any project directory, earlier versions only in the current cwd's; sandboxes differ in their workdir
 * path, so restored sessions all go into the current cwd's directory, which both find.
 */
export const claudeSessions: AgentSessions = {
  dir: (home) => path.join(claudeConfigDir(home), "projects"),
  async restore({ store, sessionDir, workdir }) {
    const target = path.join(sessionDir, claudeProjectDirName(workdir));
    await fs.mkdir(target, { recursive: true });
    for (const entry of await fs.readdir(store, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      await fs.cp(path.join(store, entry.name), target, { recursive: true, force: true });
    }
  },
};
