import path from "node:path";
import { type AgentKind, agentKinds, parseAgentKind, UnknownAgentError } from "../src/agents/registry";
import { cachePaths } from "../src/server/platform/cache-paths";
import { ensureTemplateCache, TemplateCacheError } from "../src/server/templates/template-cache";
import { ToolchainError } from "../src/server/toolchains/errors";
import { ensureToolchain, type Toolchain } from "../src/server/toolchains/install";
import { pruneToolchains } from "../src/server/toolchains/prune";
import { formatBytes, treeSize } from "../src/server/toolchains/tree";
import { fail, loadScriptEnv, parseArgs } from "./lib/context";

const usage = `Usage: npm run toolchains [-- --agent ${agentKinds.join("|")}] [--no-template] [--prune]

Installs what a first build would otherwise download: the pinned coding-agent CLIs into <KILN_DATA_DIR>/toolchains
(once per version; sandboxes share them read-only) and the app template's dependencies into
<KILN_DATA_DIR>/templates (--no-template skips them). --prune also removes other CLI versions no running sandbox
uses.`;

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
  const agents: readonly AgentKind[] = flags.agent === undefined ? agentKinds : [parseAgentKind(flags.agent)];
  const env = loadScriptEnv();
  const cacheRoot = path.join(env.dataDir, "toolchains");
  const onProgress = (message: string) => console.log(`  ${message}`);
  console.log(`Agent toolchains in ${cacheRoot}`);

  const ready: Toolchain[] = [];
  for (const agent of agents) {
    ready.push(await ensureToolchain({ cacheRoot, agent, onProgress }));
  }
  const { templateDir, templateCacheRoot } = cachePaths(env.dataDir);
  const template = flags["no-template"]
    ? undefined
    : await ensureTemplateCache({ templateDir, cacheRoot: templateCacheRoot, onProgress });
  if (flags.prune) {
    const { removed, inUse } = await pruneToolchains(cacheRoot);
    console.log(removed.length ? `  Removed: ${removed.join(", ")}` : "  Nothing to prune.");
    if (inUse.length) console.log(`  Kept (in use): ${inUse.join(", ")}`);
  }
  console.log("");
  console.log(
    table([
      ["what", "version", "path", "size", ""],
      ...ready.map((t) => [
        t.agent,
        t.version,
        t.binPath,
        formatBytes(t.sizeBytes),
        t.installed ? "installed now" : "cached",
      ]),
      ...(template
        ? [
            [
              `template ${template.name}`,
              template.version,
              template.dir,
              formatBytes(await treeSize(template.dir)),
              "",
            ],
          ]
        : []),
    ]),
  );
}

main().catch((error: unknown) => {
  if (error instanceof ToolchainError || error instanceof TemplateCacheError) fail(error.message);
  if (error instanceof UnknownAgentError) fail(`${error.message}\n\n${usage}`);
  throw error;
});
