import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Runs Next.js (`dev` or `start`, through Kiln's front in next-server.ts) in this process's stead, passing signals through and exiting with its code. With `logFile`,
 * what it prints is also appended to that file (the e2e server's log, which specs read).
 */
export function runNext(args: string[], options: { logFile?: string } = {}): void {
  // Not the `next` CLI: Kiln's own front (next-server.ts) runs Next.js, so it can tell the app the client address.
  const server = fileURLToPath(new URL("./next-server.ts", import.meta.url));
  // A self-hosted platform phones nobody home unless its operator opts in.
  const env = { NEXT_TELEMETRY_DISABLED: "1", ...process.env };
  const log = options.logFile
    ? fs.createWriteStream(options.logFile, { flags: "a", mode: 0o600 })
    : undefined;
  const child = spawn(process.execPath, ["--import", "tsx", server, ...args], {
    stdio: ["inherit", log ? "pipe" : "inherit", log ? "pipe" : "inherit"],
    env,
  });
  if (log) {
    child.stdout?.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      log.write(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      log.write(chunk);
    });
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    const exit = () => process.exit(code ?? (signal ? 1 : 0));
    if (log) log.end(exit);
    else exit();
  });
}
