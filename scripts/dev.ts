import { fail, loadScriptEnv } from "./lib/context";
import { prepareRuntime } from "./lib/prepare-runtime";
import { runNext } from "./lib/run-next";

async function main() {
  const env = loadScriptEnv(true);
  await prepareRuntime(env);
  console.log("• Starting Next.js…\n");
  runNext(["dev", ...process.argv.slice(2)]);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
