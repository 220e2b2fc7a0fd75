import fs from "node:fs";
import { fail, loadScriptEnv } from "./lib/context";
import { prepareRuntime } from "./lib/prepare-runtime";
import { runNext } from "./lib/run-next";

// The server Playwright tests run against: a production build on a fresh data dir, with a known first operator.
// Its settings come from playwright.config.ts (webServer.env).
async function main() {
  const env = loadScriptEnv(false);
  fs.rmSync(env.dataDir, { recursive: true, force: true });
  await prepareRuntime(env);
  runNext(["start", ...process.argv.slice(2)]);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
