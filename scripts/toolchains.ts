import path from "node:path";
import { ToolchainError } from "../src/server/toolchains/errors";
import { ensureToolchain, type Toolchain } from "../src/server/toolchains/install";
import { pruneToolchains } from "../src/server/toolchains/prune";
import { formatBytes } from "../src/server/toolchains/tree";
import { type AgentKind, agentKinds, isAgentKind } from "../src/server/toolchains/versions";
import { fail, loadScriptEnv, parseArgs } from "./lib/context";

const usage = `Usage: npm run toolchains [-- --agent codex|claude-code] [--prune]

Installs the pinned coding-agent CLIs into <KILN_DATA_DIR>/toolchains (once per version; sandboxes share them
read-only). --prune also removes other versions no running sandbox uses.`;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  if (flags.help) {
    console.log(usage);
    return;
  }
  const requested = flags.agent;
  if (requested !== undefined && !isAgentKind(requested)) fail(`Unknown agent ${requested}.\n\n${usage}`);
  const agents: readonly AgentKind[] =
    requested !== undefined && isAgentKind(requested) ? [requested] : agentKinds;
  const env = loadScriptEnv();
  const cacheRoot = path.join(env.dataDir, "toolchains");
  console.log(`Agent toolchains in ${cacheRoot}`);

  const ready: Toolchain[] = [];
  for (const agent of agents) {
    ready.push(
      await ensureToolchain({ cacheRoot, agent, onProgress: (message) => console.log(`  ${message}`) }),
    );
  }
  if (flags.prune) {
    const { removed, inUse } = await pruneToolchains(cacheRoot);
    console.log(removed.length ? `  Removed: ${removed.join(", ")}` : "  Nothing to prune.");
    if (inUse.length) console.log(`  Kept (in use): ${inUse.join(", ")}`);
  }
  console.log("");
  console.log(
    table([
      ["agent", "version", "path", "size", ""],
      ...ready.map((t) => [
        t.agent,
        t.version,
        t.binPath,
        formatBytes(t.sizeBytes),
        t.installed ? "installed now" : "cached",
      ]),
    ]),
  );
}

main().catch((error: unknown) => {
  if (error instanceof ToolchainError) fail(error.message);
  throw error;
});
