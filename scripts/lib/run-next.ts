import { spawn } from "node:child_process";
import { createRequire } from "node:module";

/** Runs the Next.js CLI in this process's stead, passing signals through and exiting with its code. */
export function runNext(args: string[]): void {
  const require = createRequire(import.meta.url);
  const nextBin = require.resolve("next/dist/bin/next");
  // A self-hosted platform phones nobody home unless its operator opts in.
  const env = { NEXT_TELEMETRY_DISABLED: "1", ...process.env };
  const child = spawn(process.execPath, [nextBin, ...args], { stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
